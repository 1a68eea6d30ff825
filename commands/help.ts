import { arg, defineCommand, usage } from '../src/core/command.js';
import { UserError } from '../src/errors.js';
import { suggest } from '../src/core/parse.js';

export default defineCommand({
  name: 'help',
  summary: 'What every command does (or one command in detail)',
  level: 'viewer',
  mutates: false,
  args: { command: arg.string('a command name', /^[a-z-]{1,20}$/, 'is not a command name') },
  async run(ctx, { command }) {
    const all = ctx.services.commands;
    if (command) {
      const c = all.find((x) => x.name === command);
      if (!c) {
        const close = suggest(command, all.map((x) => x.name));
        throw new UserError(`no command "${command}"`, close.length ? `did you mean ${close.join(', ')}?` : 'see /cluster help');
      }
      const args = Object.entries(c.args).map(([name, a]) => ({
        label: a.required ? name : `${name} (optional)`,
        value: `${a.description}${a.choices ? ` — one of ${a.choices.join(', ')}` : ''}`,
      }));
      return {
        title: usage(c),
        severity: 'info',
        text: [c.summary, c.help].filter(Boolean).join('\n'),
        fields: [{ label: 'Level', value: c.level, short: true }, ...args, ...(c.examples?.length ? [{ label: 'Examples', value: c.examples.join('\n') }] : [])],
        data: { name: c.name, usage: usage(c), level: c.level, args: Object.keys(c.args) },
      };
    }
    return {
      title: 'clusterbot commands',
      severity: 'info',
      tables: [{ columns: ['command', 'level', 'what it does'], rows: all.map((c) => [usage(c), c.level, c.summary]) }],
      context: `You are ${ctx.user.display} (${ctx.user.level}). /cluster help <command> for details.`,
      data: { commands: all.map((c) => ({ name: c.name, usage: usage(c), level: c.level, summary: c.summary })) },
    };
  },
});
