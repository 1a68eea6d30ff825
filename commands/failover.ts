import { arg, defineCommand } from '../src/core/command.js';
import { askConfirmation } from '../src/core/confirm.js';
import { preflightFailover } from '../src/cluster/failover/failover.js';
import { busyReason } from '../src/cluster/failover/lock.js';
import { refusal } from '../src/cluster/failover/operation.js';
import { runConfirmedFailover } from '../src/cluster/failover/confirmed.js';
import { failoverConfirmFields } from '../src/present/failover-card.js';
import { withBackupAfterSwitch } from '../src/backup/after-failover.js';

export default defineCommand({
  name: 'failover',
  summary: 'Promote a replica after an admin confirms (the primary is fenced first)',
  help: 'Runs a preflight, then shows a card with the target, its lag, the data at risk and what will be fenced. Nothing changes until an admin presses Confirm; the preflight runs again then. When a surviving replica has more WAL than the target, the target first catches up from it (FAILOVER_CATCHUP_SECONDS). `force` promotes the target as it is: no catch-up, and a lag beyond FAILOVER_MAX_LAG_BYTES accepted — the card names the WAL that is lost.',
  level: 'admin',
  mutates: true,
  slow: true,
  args: { target: arg.optionalNode('the replica to promote (default: the eligible one with the most WAL)'), force: arg.flag('promote as it is: no catch-up, accept the named loss') },
  examples: ['/cluster failover', '/cluster failover standby', '/cluster failover standby force'],
  async run(ctx, { target, force }) {
    const s = ctx.services;
    const busy = busyReason(s.config.home);
    if (busy) throw refusal(busy);
    const plan = await preflightFailover(s, target, force);
    if (typeof plan === 'string') throw refusal(plan);
    const { text, fields } = failoverConfirmFields(plan, s.node(plan.target), force);
    return askConfirmation(ctx, {
      command: 'failover',
      summary: `fail over to ${plan.target}`,
      confirmLabel: `Promote ${plan.target}`,
      level: 'admin',
      text,
      fields,
      data: { plan, force },
      run: async (c) => withBackupAfterSwitch(c, await runConfirmedFailover(c, plan.target, force)),
    });
  },
});
