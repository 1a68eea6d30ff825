import { arg, defineCommand } from '../src/core/command.js';

export default defineCommand({
  name: 'follow',
  summary: 'Point a running replica at the current primary',
  level: 'operator',
  mutates: true,
  args: { node: arg.node('the replica to re-point') },
  examples: ['/cluster follow readonly'],
  run: (ctx, { node }) => ctx.backend.follow(ctx, node),
});
