import { arg, defineCommand } from '../src/core/command.js';
import { askConfirmation } from '../src/core/confirm.js';
import { busyReason } from '../src/cluster/failover/lock.js';
import { refusal } from '../src/cluster/failover/operation.js';
import { preflightSwitchover, runSwitchover } from '../src/cluster/failover/switchover.js';
import { runWithProgress, switchoverConfirmFields } from '../src/present/failover-card.js';
import { withBackupAfterSwitch } from '../src/backup/after-failover.js';

export default defineCommand({
  name: 'switchover',
  summary: 'Planned, zero-loss role swap after an admin confirms',
  help: 'Cleanly stops the primary, promotes the target once it has replayed the shutdown checkpoint, and restarts the old primary as its replica. No committed transaction is lost.',
  level: 'admin',
  mutates: true,
  slow: true,
  args: { target: arg.optionalNode('the replica that becomes primary (default: the eligible one with the most WAL)') },
  examples: ['/cluster switchover', '/cluster switchover primary'],
  async run(ctx, { target }) {
    const s = ctx.services;
    const busy = busyReason(s.config.home);
    if (busy) throw refusal(busy);
    const plan = await preflightSwitchover(s, target);
    if (typeof plan === 'string') throw refusal(plan);
    const { text, fields } = switchoverConfirmFields(plan);
    return askConfirmation(ctx, {
      command: 'switchover',
      summary: `switch over from ${plan.from} to ${plan.to}`,
      confirmLabel: `Switch over to ${plan.to}`,
      level: 'admin',
      text,
      fields,
      data: { plan },
      run: async (c) => withBackupAfterSwitch(c, await runWithProgress(c, 'Switchover', (hooks) => runSwitchover(s, { ...hooks, target: plan.to }))),
    });
  },
});
