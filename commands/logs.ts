import { arg, defineCommand } from '../src/core/command.js';

// Chat messages are short (Slack sections ~3000 chars, Discord embeds 4096): the card shows the
// newest lines that fit; --json (data) carries every requested line.
const MAX_CHARS = 2800;

export default defineCommand({
  name: 'logs',
  summary: "Tail of a node's PostgreSQL log (its container log under Docker), secrets masked",
  level: 'operator',
  mutates: false,
  args: {
    node: arg.node('the node whose log to show'),
    lines: arg.int('how many lines', { min: 1, max: 1000, default: 50 }),
  },
  examples: ['/cluster logs primary', '/cluster logs standby 200'],
  async run(ctx, { node, lines }) {
    const raw = await ctx.backend.logs(node, lines);
    const all = ctx.services.masker.mask(raw.text).split('\n').filter((l, i, a) => l !== '' || i < a.length - 1);
    const shown: string[] = [];
    let size = 0;
    for (let i = all.length - 1; i >= 0 && size + all[i].length + 1 <= MAX_CHARS; i--) {
      shown.unshift(all[i]);
      size += all[i].length + 1;
    }
    const cut = all.length - shown.length;
    return {
      title: `Log of ${node} — last ${all.length} line${all.length === 1 ? '' : 's'}`,
      severity: 'info',
      text: all.length ? `\`\`\`\n${shown.join('\n')}\n\`\`\`` : `${node} has no log lines yet.`,
      context: cut > 0 ? `${cut} older line(s) not shown here; use --json or fewer lines` : raw.source,
      data: { node, lines: all.length, log: all },
    };
  },
});
