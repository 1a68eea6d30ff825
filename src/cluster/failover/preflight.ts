// Decisions before a failover or switchover. Each check returns a reason a person reads, or null
// (Patroni's failover_limitation()); the plan says what will happen, for the confirmation card.
import type { Config } from '../../config.js';
import type { ClusterSnapshot, NodeStatus } from '../inspect.js';
import { formatBytes, lsnDiff, parseLsn } from '../lsn.js';
import { planCatchup, walPosition, type CatchupPlan } from './catchup.js';

export interface AheadNode {
  name: string;
  failover: boolean;
  /** WAL bytes this node received that the target did not. */
  bytes: number;
  /** This node's newest WAL position: the range targetLsn → lsn is what only it holds. */
  lsn: string | null;
}

export interface FailoverPlan {
  target: string;
  targetTimeline: number | null;
  /** The node that was (or is) the primary, when known. */
  oldPrimary: string | null;
  primaryState: string;
  /** Replay distance of the target from the newest WAL anyone has (bytes). */
  lagBytes: number;
  /** WAL the target never received and that is lost with this failover (bytes; a floor when the primary is down). */
  riskBytes: number;
  riskIsFloor: boolean;
  /** Nodes fenced before the promotion. */
  fence: string[];
  /** Nodes re-pointed at the new primary afterwards. */
  followers: string[];
  ahead: AheadNode[];
  /** The target's newest WAL position now. */
  targetLsn: string | null;
  /** The target first streams from the most advanced surviving replica (null: nothing to catch up, or `force`). */
  catchup: CatchupPlan | null;
}

const position = walPosition;

const eligible = (n: NodeStatus) => n.failover && n.up && n.role === 'replica' && !n.fenced;

/** The failover-eligible replica with the highest received LSN, or a reason why there is none. */
export function chooseTarget(snap: ClusterSnapshot, name?: string): NodeStatus | string {
  if (name) return snap.nodes.find((n) => n.name === name) ?? `unknown node "${name}"`;
  const candidates = snap.nodes.filter(eligible).sort((a, b) => Number((parseLsn(position(b)) ?? 0n) - (parseLsn(position(a)) ?? 0n)));
  if (candidates[0]) return candidates[0];
  const why = snap.nodes
    .filter((n) => !snap.writable.includes(n.name))
    .map((n) => `${n.name} ${!n.failover ? 'is a no-failover node' : n.fenced ? 'is fenced' : !n.up ? `is down (${n.error ?? 'not answering'})` : 'is not a replica'}`);
  const down = snap.nodes.filter((n) => n.failover && !n.up && !n.fenced);
  const next = down.length
    ? `run ${down.map((n) => `/cluster start ${n.name}`).join(' or ')}, then run /cluster failover again if it is still needed`
    : 'add or rejoin a failover-eligible replica (/cluster rejoin <node>), then try again';
  return `no failover-eligible replica is available: ${why.join('; ') || 'there are no replicas'} — ${next}`;
}

/** Why this node cannot be promoted now, or null. Shared by failover and switchover. */
export function targetLimitation(snap: ClusterSnapshot, t: NodeStatus): string | null {
  if (snap.writable.includes(t.name)) return `${t.name} is already the writable primary — nothing to promote`;
  if (!t.failover) return `${t.name} is a no-failover node and is never promoted — choose a failover-eligible replica (see /cluster nodes)`;
  if (t.fenced) return `${t.name} is fenced (a former primary) — rejoin it first with /cluster rejoin ${t.name}`;
  if (!t.up) return `${t.name} is down (${t.error ?? 'not answering'}) — start it with /cluster start ${t.name}, or name another replica`;
  if (t.role !== 'replica') return `${t.name} is not a replica — see /cluster status`;
  return null;
}

/** Newest WAL position anyone has: the primary's write LSN, else the furthest replica. */
function referenceLsn(snap: ClusterSnapshot): string | null {
  const p = snap.nodes.find((n) => n.name === snap.primary);
  if (p?.lsn) return p.lsn;
  let best: string | null = null;
  for (const n of snap.nodes) {
    const pos = n.up && n.role === 'replica' ? position(n) : null;
    if (pos && (best === null || (lsnDiff(pos, best) ?? 0) > 0)) best = pos;
  }
  return best;
}

export function lagLimitation(name: string, lagBytes: number, max: number, paused: boolean, force: boolean): string | null {
  if (force || lagBytes <= max) return null;
  const resume = paused ? `replay is paused on ${name}: run SELECT pg_wal_replay_resume() there and wait for it to catch up` : `wait for ${name} to catch up (/cluster status)`;
  return `${name} is ${formatBytes(lagBytes)} (${lagBytes} bytes) behind, more than FAILOVER_MAX_LAG_BYTES (${formatBytes(max)}) — ${resume}, or add \`force\` to accept losing that data`;
}

/** The whole failover preflight: a plan, or the reason it is refused. */
export function planFailover(snap: ClusterSnapshot, config: Config, targetName: string | undefined, force: boolean): FailoverPlan | string {
  if (snap.writable.length > 1) return `${snap.writable.join(' and ')} all accept writes — stop all but one by hand (/cluster stop <node>) before a failover`;
  const chosen = chooseTarget(snap, targetName);
  if (typeof chosen === 'string') return chosen;
  const t = chosen;
  const limit = targetLimitation(snap, t);
  if (limit) return limit;
  const ref = referenceLsn(snap);
  const lagBytes = Math.max(0, lsnDiff(ref, t.replayLsn) ?? 0);
  const oldPrimary = snap.primary ?? formerPrimary(snap, t);
  // Without `force`, a target behind a surviving replica first catches up from it: what is at risk
  // (and what the lag limit weighs) is then only what that replica lacks.
  const catchup = force ? null : planCatchup(snap, t, oldPrimary);
  const after = catchup ? catchup.toLsn : position(t);
  // A catch-up ends only once the target has replayed: with its replay paused, its own lag is what counts.
  const weighed = catchup && !t.replayPaused ? Math.max(0, lsnDiff(ref, after) ?? 0) : lagBytes;
  const lag = lagLimitation(t.name, weighed, config.FAILOVER_MAX_LAG_BYTES, t.replayPaused, force);
  if (lag) return lag;
  const old = snap.nodes.find((n) => n.name === oldPrimary);
  const ahead: AheadNode[] = [];
  for (const n of snap.nodes) {
    if (n.name === t.name || n.name === oldPrimary || !n.up || n.role !== 'replica') continue;
    const bytes = lsnDiff(position(n), position(t)) ?? 0;
    if (bytes > 0) ahead.push({ name: n.name, failover: n.failover, bytes, lsn: position(n) });
  }
  return {
    target: t.name,
    targetTimeline: t.timeline,
    oldPrimary,
    primaryState: old ? primaryState(old) : 'unknown: no node is writable and none is known to have been the primary',
    lagBytes,
    riskBytes: Math.max(0, lsnDiff(ref, after) ?? 0),
    riskIsFloor: !snap.primary,
    fence: oldPrimary ? [oldPrimary] : [],
    followers: snap.nodes.filter((n) => n.name !== t.name && n.name !== oldPrimary).map((n) => n.name),
    ahead,
    targetLsn: position(t),
    catchup,
  };
}

/** Without a writable node, the old primary is the node the replicas were streaming from. */
function formerPrimary(snap: ClusterSnapshot, target: NodeStatus): string | null {
  const named = [target.upstream, ...snap.nodes.map((n) => n.upstream)].find((u) => u && snap.nodes.some((n) => n.name === u && !n.up));
  if (named) return named;
  const down = snap.nodes.filter((n) => !n.up && !n.fenced);
  return down.length === 1 ? down[0].name : null;
}

function primaryState(n: NodeStatus): string {
  if (n.up && n.role === 'primary') return `${n.name} is up and accepts writes: it will be stopped and fenced (for a planned move, /cluster switchover loses nothing)`;
  const cause = n.cause ? ` — ${n.cause}` : '';
  if (n.running) return `${n.name}: process running but ${n.error?.startsWith('no answer') ? n.error : `not answering (${n.error ?? 'unknown'})`}${cause} — it will be stopped and fenced`;
  return `${n.name} is down (${n.error ?? 'not answering'}${cause})${n.fenced ? ', already fenced' : ''}`;
}

/** The switchover preflight: the primary must be up and the target a healthy, streaming replica of it. */
export function switchoverLimitation(snap: ClusterSnapshot, config: Config, t: NodeStatus): string | null {
  if (!snap.primary) return 'there is no single writable primary to hand over from — if the primary is down, use /cluster failover';
  const limit = targetLimitation(snap, t);
  if (limit) return limit;
  if (!t.streaming || t.upstream !== snap.primary) return `${t.name} is not streaming from ${snap.primary} — fix replication first (/cluster follow ${t.name}), then try again`;
  if (t.replayPaused) return `replay is paused on ${t.name} — run SELECT pg_wal_replay_resume() there, then try again`;
  return lagLimitation(t.name, t.lagBytes ?? 0, config.FAILOVER_MAX_LAG_BYTES, false, false);
}
