import { arg, defineCommand } from '../src/core/command.js';
import { runFollow } from '../src/cluster/failover/rejoin.js';
import { runWithProgress } from '../src/present/failover-card.js';

export default defineCommand({
  name: 'follow',
  summary: 'Point a running replica at the current primary',
  level: 'operator',
  mutates: true,
  args: { node: arg.node('the replica to re-point') },
  examples: ['/cluster follow readonly'],
  run: (ctx, { node }) => runWithProgress(ctx, `Follow ${node}`, (hooks) => runFollow(ctx.services, node, hooks)),
});
