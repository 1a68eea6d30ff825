import { arg, defineCommand } from '../src/core/command.js';

export default defineCommand({
  name: 'switchover',
  summary: 'Planned, zero-loss role swap after an admin confirms',
  help: 'Cleanly stops the primary, promotes the target once it has replayed the shutdown checkpoint, and restarts the old primary as its replica (Patroni: POST /switchover, the same guarantees). No committed transaction is lost.',
  level: 'admin',
  mutates: true,
  slow: true,
  args: { target: arg.optionalNode('the replica that becomes primary (default: the eligible one with the most WAL)') },
  examples: ['/cluster switchover', '/cluster switchover primary'],
  run: (ctx, { target }) => ctx.backend.switchover(ctx, target),
});
