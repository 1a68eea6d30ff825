import { arg, defineCommand } from '../src/core/command.js';

export default defineCommand({
  name: 'failover',
  summary: 'Promote a replica after an admin confirms (the primary is fenced first)',
  help: 'Runs a preflight, then shows a card with the target, its lag, the data at risk and what will be fenced. Nothing changes until an admin presses Confirm; the preflight runs again then. Native: when a surviving replica has more WAL than the target, the target first catches up from it (FAILOVER_CATCHUP_SECONDS). Patroni: POST /failover to the candidate (Patroni also fails over on its own when the leader is lost, unless paused). `force` promotes the target as it is: a lag beyond FAILOVER_MAX_LAG_BYTES accepted — the card names the WAL that is lost.',
  level: 'admin',
  mutates: true,
  slow: true,
  args: { target: arg.optionalNode('the replica to promote (default: the eligible one with the most WAL)'), force: arg.flag('promote as it is: no catch-up, accept the named loss') },
  examples: ['/cluster failover', '/cluster failover standby', '/cluster failover standby force'],
  run: (ctx, { target, force }) => ctx.backend.failover(ctx, target, force),
});
