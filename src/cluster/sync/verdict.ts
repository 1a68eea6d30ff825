// Failover and synchronous replication: which replica to promote (one that was synchronous), and
// whether the card may say "0 bytes at risk — synchronous". Pure decisions on the state + snapshot.
import type { FailoverPlan } from '../failover/preflight.js';
import type { ClusterSnapshot, NodeStatus } from '../inspect.js';
import { parseLsn } from '../lsn.js';
import type { SyncState } from './state.js';

export interface SyncVerdict {
  /** Every commit the old primary acknowledged is on the target. */
  zeroLoss: boolean;
  /** One sentence for the card ('' when sync is off and was never on). */
  line: string;
}

/** The newest WAL the replica has flushed (received) or replayed. */
function position(n: NodeStatus): bigint | null {
  const r = parseLsn(n.receiveLsn);
  const p = parseLsn(n.replayLsn);
  if (r === null) return p;
  if (p === null) return r;
  return r > p ? r : p;
}

/** Sync was in force on this old primary when it was last seen. */
const heldOn = (st: SyncState, oldPrimary: string | null) => st.mode !== 'off' && st.active && !st.degraded && oldPrimary !== null && st.primary === oldPrimary;

/**
 * The member to promote when the synchronous guarantee held: the most advanced reachable member
 * (each acknowledged commit is on at least one member, so the furthest one has them all).
 * Undefined: let the ordinary choice decide.
 */
export function syncTarget(st: SyncState, snap: ClusterSnapshot): string | undefined {
  if (!heldOn(st, st.primary) || (snap.primary !== null && snap.primary !== st.primary)) return undefined;
  const members = snap.nodes.filter((n) => st.members.includes(n.name) && n.up && n.role === 'replica' && !n.fenced);
  members.sort((a, b) => Number((position(b) ?? 0n) - (position(a) ?? 0n)));
  return members[0]?.name;
}

export function syncVerdict(st: SyncState, snap: ClusterSnapshot, plan: FailoverPlan): SyncVerdict {
  if (st.mode === 'off' && !st.active) return { zeroLoss: false, line: '' };
  if (st.mode === 'on' && st.degraded) {
    return { zeroLoss: false, line: `Synchronous replication was DEGRADED to asynchronous on ${st.primary ?? '?'}: commits were not waiting for a replica, so the figure above is what is at risk.` };
  }
  if (!heldOn(st, plan.oldPrimary)) {
    return { zeroLoss: false, line: `Synchronous replication was not in force on ${plan.oldPrimary ?? 'the old primary'} (last applied on ${st.primary ?? 'no node'}): the figure above is what is at risk.` };
  }
  if (!st.members.includes(plan.target)) {
    return { zeroLoss: false, line: `${plan.target} was not a synchronous replica (those were ${st.members.join(', ')}): commits acknowledged by ${plan.oldPrimary} may be missing on it.` };
  }
  const t = snap.nodes.find((n) => n.name === plan.target);
  const tPos = t ? position(t) : null;
  for (const name of st.members) {
    if (name === plan.target) continue;
    const m = snap.nodes.find((n) => n.name === name);
    if (!m || !m.up || m.role !== 'replica') {
      return { zeroLoss: false, line: `${name}, also a synchronous candidate (ANY 1), cannot be read (${m?.error ?? 'down'}): it may hold commits ${plan.target} lacks, so no zero-loss claim.` };
    }
    const p = position(m);
    if (p !== null && tPos !== null && p > tPos) {
      return { zeroLoss: false, line: `${name}, also a synchronous candidate, has more WAL than ${plan.target}: promote ${name} for zero loss.` };
    }
  }
  return {
    zeroLoss: true,
    line: `Synchronous replication (${st.mode}) was in force on ${plan.oldPrimary}: every commit it acknowledged waited until ${st.members.length > 1 ? `one of ${st.members.join(', ')}` : plan.target} had flushed it, and ${plan.target} holds the most of it.`,
  };
}
