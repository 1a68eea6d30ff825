import { defineCommand } from '../src/core/command.js';

export default defineCommand({
  name: 'down',
  summary: 'Stop every node cleanly, primary first (after an admin confirms)',
  level: 'operator',
  mutates: true,
  args: {},
  run: (ctx) => ctx.backend.down(ctx),
});
