import { arg, defineCommand } from '../../src/core/command.js';
import { leaderChangeCard } from './leader-card.js';

export default defineCommand({
  name: 'failover',
  summary: "Promote a replica through Patroni's POST /failover, after confirmation",
  help: 'Patroni fails over on its own when the leader is lost (unless paused); this forces it now, to a chosen candidate. A candidate further behind than FAILOVER_MAX_LAG_BYTES needs `force`.',
  level: 'admin',
  mutates: true,
  slow: true,
  args: { target: arg.optionalNode('the member to promote'), force: arg.flag('accept a candidate that lags more than FAILOVER_MAX_LAG_BYTES') },
  examples: ['/cluster failover', '/cluster failover standby force'],
  run: (ctx, { target, force }) => leaderChangeCard(ctx, 'failover', target, force),
});
