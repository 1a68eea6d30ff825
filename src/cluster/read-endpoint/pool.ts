// Which nodes the read endpoint sends sessions to, decided from one snapshot: the streaming replicas
// within the lag limits, and the primary as the fallback HAProxy uses only when no replica answers.
import type { ClusterSnapshot, NodeStatus } from '../inspect.js';
import { formatBytes } from '../lsn.js';

export interface ReadLimits {
  /** A replica further behind the primary than this is out (bytes; 0 = no limit). */
  maxLagBytes: number;
  /** A replica whose replay is this far behind is out (seconds; 0 = no limit). */
  maxLagSeconds: number;
  fallbackToPrimary: boolean;
}

export interface ReadPool {
  /** Replicas that take read sessions (balanced by HAProxy). */
  members: string[];
  /** The primary as HAProxy's backup server (used only while no member answers), or null. */
  fallback: string | null;
  /** Replicas left out, each with why. */
  out: Array<{ node: string; reason: string }>;
}

/** Why a replica may not serve reads now, or null when it may. */
function exclusion(n: NodeStatus, snap: ClusterSnapshot, limits: ReadLimits, wasMember: boolean): string | null {
  if (!n.up) return n.error ? `down (${n.error})` : 'down';
  if (n.fenced) return 'fenced';
  // With no writable primary nothing can stream; members keep serving (as stale as when it stopped)
  // so reads survive the outage until a failover, and nothing new joins.
  if (!snap.primary) return wasMember ? null : 'not streaming (no writable primary)';
  if (!n.streaming) return 'not streaming';
  if (limits.maxLagBytes > 0 && (n.lagBytes ?? 0) > limits.maxLagBytes) return `lag ${formatBytes(n.lagBytes ?? 0)} > ${formatBytes(limits.maxLagBytes)}`;
  if (limits.maxLagSeconds > 0 && (n.lagSeconds ?? 0) > limits.maxLagSeconds) return `lag ${(n.lagSeconds ?? 0).toFixed(1)} s > ${limits.maxLagSeconds} s`;
  return null;
}

/** The pool for this snapshot; `previous` members keep serving while there is no writable primary. */
export function readPoolFor(snap: ClusterSnapshot, limits: ReadLimits, previous: string[] = []): ReadPool {
  const pool: ReadPool = { members: [], fallback: limits.fallbackToPrimary ? snap.primary : null, out: [] };
  for (const n of snap.nodes) {
    if (n.role === 'primary') continue;
    const why = exclusion(n, snap, limits, previous.includes(n.name));
    if (why) pool.out.push({ node: n.name, reason: why });
    else pool.members.push(n.name);
  }
  return pool;
}

/** Same servers for HAProxy (the reasons may differ without a reload). */
export const samePool = (a: ReadPool | null, b: ReadPool | null): boolean =>
  !!a && !!b && a.fallback === b.fallback && a.members.join(',') === b.members.join(',');

/** "standby, readonly (fallback: primary)" / "NO replica qualifies — reads go to primary" / "… reads are refused". */
export function poolSummary(p: ReadPool): string {
  if (p.members.length) return `${p.members.join(', ')}${p.fallback ? ` (fallback: ${p.fallback})` : ''}`;
  return p.fallback ? `NO replica qualifies — reads go to ${p.fallback}` : 'NO replica qualifies — reads are refused';
}

/** "readonly out: lag 40 MB > 16 MB; standby out: down". */
export const outSummary = (p: ReadPool): string => p.out.map((o) => `${o.node} out: ${o.reason}`).join('; ');
