import { defineCommand } from '../src/core/command.js';

export default defineCommand({
  name: 'up',
  summary: 'Create missing nodes and start stopped ones (never re-initialises existing data)',
  level: 'operator',
  mutates: true,
  slow: true,
  args: {},
  run: (ctx) => ctx.backend.up(ctx),
});
