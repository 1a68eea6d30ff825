// Issue 17 on the Patroni backend: the bot cannot make Patroni catch a candidate up from another
// replica first, so the failover card says plainly what Patroni will do with WAL a member holds
// beyond the candidate: it promotes the candidate as it is and rewinds that member — it discards it.
import type { Reply } from '../chat/reply.js';
import { formatBytes } from '../cluster/lsn.js';
import type { Count } from './discarded-wal.js';
import type { Plan } from './leader-change.js';
import type { DiscardedRange } from './timelines.js';

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

/**
 * Issue 22 on the Patroni backend: leadership moved to a member whose history lacks WAL the bot saw
 * acknowledged (back to an older timeline, or a freshly promoted leader demoted again). Critical:
 * the range, how many transactions it held (or why that could not be read), and what to do now.
 */
export function discardedWritesAlert(leader: string, timeline: number, ranges: DiscardedRange[], counts: Count[]): Reply {
  const lines = ranges.map((r, i) => {
    const c = counts[i];
    const seen = r.xidsSeen !== null ? `; at least ${r.xidsSeen} write transaction${r.xidsSeen === 1 ? '' : 's'} began there while the bot watched` : '';
    const held = c?.ok ? `${c.transactions} committed transaction${c.transactions === 1 ? '' : 's'} (pg_waldump over ${c.source})` : `pg_waldump could not read it (${c?.why ?? 'not tried'})${seen}`;
    return `timeline ${r.timeline} from ${r.from} to ${r.to} (${formatBytes(r.bytes)}, written on ${r.leader}): ${held}`;
  });
  const holders = [...new Set(ranges.map((r) => r.leader))].filter((n) => n !== leader);
  const first = ranges[0];
  const next = holders.length
    ? `keep ${holders.join(', ')} from being rewound before its WAL is saved: /cluster maintenance on (Patroni pause), then on that host copy pg_wal and read the range with pg_waldump -t ${first.timeline} -s ${first.from} -e ${first.to}; re-apply what is missing on ${leader}; then /cluster maintenance off and /cluster rejoin ${holders[0]} if it does not stream`
    : `read the range with pg_waldump -t ${first.timeline} -s ${first.from} -e ${first.to} where that WAL still is, and re-apply what is missing on ${leader}`;
  return {
    title: `Acknowledged writes discarded: leader is ${leader} on timeline ${timeline}`,
    severity: 'crit',
    text: `Patroni made ${leader} (timeline ${timeline}) the leader, but the bot saw writes it does not have — ${ranges.map((r) => r.why).join('; ')}. Discarded WAL: ${lines.join('; ')}.`,
    fields: [
      { label: 'Discarded WAL', value: lines.join('\n') },
      { label: 'Next step', value: next },
      { label: 'Why', value: 'the new leader\'s history does not contain WAL that was acknowledged; the usual cause is a leader that stalled and came back after Patroni had failed over, with no watchdog to fence it: docs/patroni.md, "Frozen leaders and protections"' },
    ],
    data: { alert: 'writes_discarded', node: leader, timeline, ranges, counts },
  };
}
