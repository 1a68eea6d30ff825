// Issue 17 on the Patroni backend: the bot cannot make Patroni catch a candidate up from another
// replica first, so the failover card says plainly what Patroni will do with WAL a member holds
// beyond the candidate: it promotes the candidate as it is and rewinds that member — it discards it.
import { formatBytes } from '../cluster/lsn.js';
import type { Plan } from './leader-change.js';

export function patroniDiscardNote(plan: Plan): string[] {
  if (plan.kind !== 'failover' || plan.lagBytes === null) return [];
  const lag = plan.lagBytes;
  return plan.snap.patroni.members
    .filter((m) => m.name !== plan.candidate.name && m.name !== plan.leader?.name && m.lagBytes !== null && m.lagBytes < lag)
    .map(
      (m) =>
        `⚠ ${m.name}${m.nofailover ? ' (nofailover)' : ''} has ${formatBytes(lag - m.lagBytes!)} more WAL than ${plan.candidate.name}: Patroni promotes ${plan.candidate.name} as it is and rewinds ${m.name} onto the new timeline, so that WAL is discarded — Patroni cannot first catch ${plan.candidate.name} up from another member${m.nofailover ? '' : `; /cluster failover ${m.name} keeps it`}.`,
    );
}
