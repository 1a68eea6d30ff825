import { arg, defineCommand } from '../src/core/command.js';
import { runRejoin } from '../src/cluster/failover/rejoin.js';
import { runWithProgress } from '../src/present/failover-card.js';

export default defineCommand({
  name: 'rejoin',
  summary: 'Turn an old primary into a replica of the current primary (pg_rewind, else a fresh clone)',
  level: 'operator',
  mutates: true,
  slow: true,
  args: { node: arg.node('the node to rejoin, usually a fenced former primary') },
  examples: ['/cluster rejoin primary'],
  run: (ctx, { node }) => runWithProgress(ctx, `Rejoin ${node}`, (hooks) => runRejoin(ctx.services, node, hooks)),
});
