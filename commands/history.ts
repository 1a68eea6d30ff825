import { arg, defineCommand } from '../src/core/command.js';

export default defineCommand({
  name: 'history',
  summary: 'The audit trail: commands, clicks, refusals and automatic actions',
  level: 'viewer',
  mutates: false,
  args: { n: arg.int('how many entries', { min: 1, max: 200, default: 20 }) },
  async run(ctx, { n }) {
    const entries = ctx.services.audit.tail(n).reverse();
    return {
      title: `Last ${entries.length} audit entries`,
      severity: 'info',
      tables: [
        {
          columns: ['time (UTC)', 'who', 'what', 'outcome'],
          rows: entries.map((e) => [e.at.slice(0, 19).replace('T', ' '), `${e.user} (${e.platform})`, [e.kind, e.command].filter(Boolean).join(' '), e.outcome]),
        },
      ],
      data: { entries },
    };
  },
});
