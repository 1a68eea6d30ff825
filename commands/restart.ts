import { arg, defineCommand } from '../src/core/command.js';

export default defineCommand({
  name: 'restart',
  summary: 'Restart a node (the primary only after an admin confirms)',
  level: 'operator',
  mutates: true,
  slow: true,
  args: { node: arg.node('the node to restart') },
  run: (ctx, { node }) => ctx.backend.restart(ctx, node),
});
