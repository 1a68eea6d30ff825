// The shared shape of /cluster switchover and /cluster failover with the Patroni backend:
// preflight → confirmation card → (on click) preflight again → Patroni → observed outcome.
import type { Reply } from '../chat/reply.js';
import type { CommandContext } from '../core/command.js';
import { askConfirmation } from '../core/confirm.js';
import { formatBytes } from '../cluster/lsn.js';
import { UserError } from '../errors.js';
import { outcomeReply, planLeaderChange, runLeaderChange, type LeaderChange, type Plan } from './leader-change.js';
import { patroniDiscardNote } from './discard-note.js';
import { patroniSnapshot } from './snapshot.js';
import { withBackupAfterSwitch } from '../backup/after-failover.js';

export async function leaderChangeCard(ctx: CommandContext, kind: LeaderChange, target: string | undefined, force: boolean): Promise<Reply> {
  const plan = await planLeaderChange(ctx.services, kind, target, force);
  if (typeof plan === 'string') throw new UserError(`${kind} refused: ${plan}`, 'nothing was changed; see /cluster status', 'precondition');
  const verb = kind === 'switchover' ? 'Switchover' : 'Failover';
  const risk =
    kind === 'switchover'
      ? 'none: Patroni shuts the leader down cleanly and promotes the candidate only once it has all the WAL'
      : plan.leader && plan.leaderAlive
        ? `${formatBytes(plan.lagBytes)} (the candidate's lag; the running leader ${plan.leader.name} is demoted first)`
        : `up to ${formatBytes(plan.lagBytes)} (the candidate's lag when the leader was last seen)`;
  return askConfirmation(ctx, {
    command: kind,
    summary: `${verb} ${plan.leader?.name ?? '(no leader)'} → ${plan.candidate.name} via Patroni`,
    confirmLabel: `${verb} to ${plan.candidate.name}`,
    level: 'admin',
    text: describe(plan),
    fields: [
      { label: 'Current leader', value: plan.leader ? `${plan.leader.name} (${plan.leaderAlive ? plan.leader.state : 'NOT ANSWERING; Patroni still holds its key'})` : 'none', short: true },
      { label: 'Candidate', value: `${plan.candidate.name}, ${formatBytes(plan.lagBytes)} behind`, short: true },
      { label: 'Data at risk', value: risk },
      ...(plan.paused ? [{ label: 'Patroni is paused', value: 'the change still happens (to this named candidate); automatic failover stays off' }] : []),
    ],
    data: { kind, from: plan.leader?.name ?? null, to: plan.candidate.name, lagBytes: plan.lagBytes },
    run: async (confirmCtx) => withBackupAfterSwitch(confirmCtx, await confirmed(confirmCtx, kind, plan, force)),
  });
}

function describe(plan: Plan): string {
  const old = plan.leader && plan.leaderAlive ? `${plan.leader.name} is restarted by Patroni as a replica of ${plan.candidate.name} (pg_rewind when needed).` : '';
  return [`Patroni will make ${plan.candidate.name} the leader. ${old} The bot then checks that ${plan.candidate.name} takes a real write.`, ...patroniDiscardNote(plan)].join('\n');
}

async function confirmed(ctx: CommandContext, kind: LeaderChange, asked: Plan, force: boolean): Promise<Reply> {
  // The world may have changed since the card was shown: plan again, for the same candidate.
  const plan = await planLeaderChange(ctx.services, kind, asked.candidate.name, force);
  if (typeof plan === 'string') throw new UserError(`${kind} refused on confirmation: ${plan}`, 'nothing was changed; see /cluster status', 'precondition');
  if (kind === 'switchover' && plan.leader?.name !== asked.leader?.name) {
    throw new UserError(`the leader changed from ${asked.leader?.name} to ${plan.leader?.name} since the card was shown`, 'ask again with /cluster switchover', 'precondition');
  }
  await ctx.progress({ title: `${kind === 'switchover' ? 'Switchover' : 'Failover'} to ${plan.candidate.name} under way`, severity: 'info', text: `confirmed by ${ctx.user.display}; Patroni is working…` });
  const outcome = await runLeaderChange(ctx, plan);
  const snap = outcome.ok ? await patroniSnapshot(ctx.services).catch(() => null) : null;
  return outcomeReply(plan, outcome, ctx.user.display, snap);
}
