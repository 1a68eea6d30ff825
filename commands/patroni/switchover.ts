import { arg, defineCommand } from '../../src/core/command.js';
import { leaderChangeCard } from './leader-card.js';

export default defineCommand({
  name: 'switchover',
  summary: "Planned, zero-loss leader change through Patroni's POST /switchover, after confirmation",
  help: 'Without a target, the running replica with the least lag (and no nofailover tag) is chosen.',
  level: 'admin',
  mutates: true,
  slow: true,
  args: { target: arg.optionalNode('the member to become leader') },
  examples: ['/cluster switchover', '/cluster switchover standby'],
  run: (ctx, { target }) => leaderChangeCard(ctx, 'switchover', target, false),
});
