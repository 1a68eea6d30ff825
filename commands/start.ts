import { arg, defineCommand } from '../src/core/command.js';

export default defineCommand({
  name: 'start',
  summary: 'Start a stopped node and wait until it serves (and streams, for a replica)',
  level: 'operator',
  mutates: true,
  args: { node: arg.node('the node to start') },
  examples: ['/cluster start readonly'],
  run: (ctx, { node }) => ctx.backend.start(ctx, node),
});
