import { arg, defineCommand } from '../src/core/command.js';

export default defineCommand({
  name: 'stop',
  summary: 'Stop a node cleanly (the primary only after an admin confirms)',
  level: 'operator',
  mutates: true,
  args: { node: arg.node('the node to stop') },
  examples: ['/cluster stop readonly'],
  run: (ctx, { node }) => ctx.backend.stop(ctx, node),
});
