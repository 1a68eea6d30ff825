import { arg, defineCommand } from '../src/core/command.js';
import { nodeLifecycle } from '../src/cluster/node-lifecycle.js';

export default defineCommand({
  name: 'restart',
  summary: 'Restart a node (the primary only after an admin confirms)',
  level: 'operator',
  mutates: true,
  args: { node: arg.node('the node to restart') },
  run: (ctx, { node }) => nodeLifecycle(ctx, node, 'restart'),
});
