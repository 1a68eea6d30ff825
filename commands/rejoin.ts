import { arg, defineCommand } from '../src/core/command.js';

export default defineCommand({
  name: 'rejoin',
  summary: 'Turn an old primary into a replica of the current primary (pg_rewind, else a fresh clone)',
  help: 'Native: pg_rewind, else a fresh clone. Patroni rewinds and re-points old leaders on its own; there this rebuilds a member that stays broken (POST /reinitialize, after confirmation).',
  level: 'operator',
  mutates: true,
  slow: true,
  args: { node: arg.node('the node to rejoin, usually a fenced former primary') },
  examples: ['/cluster rejoin primary'],
  run: (ctx, { node }) => ctx.backend.rejoin(ctx, node),
});
