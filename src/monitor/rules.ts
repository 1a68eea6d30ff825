// Alert rules: a ClusterSnapshot (plus disk usage and the backup catalog) in, findings out.
// Pure decisions — no I/O — so every rule is testable with a made-up snapshot.
import type { Config } from '../config.js';
import type { Reply } from '../chat/reply.js';
import type { ClusterSnapshot, NodeStatus } from '../cluster/inspect.js';
import { formatBytes, formatSeconds } from '../cluster/lsn.js';
import { isDiskFull } from '../cluster/down-cause.js';
import type { DiskUsage } from './disk.js';

export type AlertSeverity = 'warn' | 'crit';

export type RuleId =
  | 'primary_down'
  | 'node_down'
  | 'no_primary'
  | 'split_brain'
  | 'not_streaming'
  | 'lag_bytes'
  | 'lag_seconds'
  | 'archiver_failing'
  | 'disk_usage'
  | 'backup_overdue'
  | 'sync_degraded'
  | 'sync_blocked'
  | 'read_pool_empty'
  | 'cert_expiry'
  // A backend's own rules (src/patroni/monitoring.ts names Patroni's), by their own ids.
  | (string & {});

export interface Finding {
  rule: RuleId;
  /** What the alert is about, part of its identity: a node name, a filesystem, or "cluster". */
  subject: string;
  /** The node concerned, when there is one. */
  node: string | null;
  severity: AlertSeverity;
  title: string;
  text: string;
  value: string;
  threshold: string;
  next: string;
  /** Offer the "Start failover…" button. */
  failover?: boolean;
  /** The exact message to post when it fires (a backend rule's own words), instead of the generic alert card. */
  post?: Reply;
}

export const alertKey = (f: Pick<Finding, 'rule' | 'subject'>) => `${f.rule}:${f.subject}`;

export type Thresholds = Pick<
  Config,
  | 'LAG_BYTES_WARN'
  | 'LAG_BYTES_CRIT'
  | 'LAG_SECONDS_WARN'
  | 'LAG_SECONDS_CRIT'
  | 'NOT_STREAMING_WARN_SECONDS'
  | 'NOT_STREAMING_CRIT_SECONDS'
  | 'ARCHIVER_FAILING_CRIT_MINUTES'
  | 'DISK_USAGE_WARN'
  | 'DISK_USAGE_CRIT'
  | 'PG_CONNECT_TIMEOUT_MS'
  | 'walArchiveDir'
>;

export interface RuleInput {
  snapshot: ClusterSnapshot;
  /** The last node seen as the single writable primary (persisted across restarts). */
  lastPrimary: string | null;
  /** When each condition that needs a duration was first seen (epoch ms), by `rule:node`. */
  since: Record<string, number>;
  disks: DiskUsage[];
  backupOverdue: string | null;
  now: number;
  thresholds: Thresholds;
}

/** warn/crit from two thresholds; 0 switches a level off. */
export function level(value: number, warn: number, crit: number): AlertSeverity | null {
  if (crit > 0 && value >= crit) return 'crit';
  if (warn > 0 && value >= warn) return 'warn';
  return null;
}

const both = (names: string[]) => (names.length === 2 ? `${names[0]} and ${names[1]}` : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`);

/** Keys of the duration-based conditions that hold now; the monitor keeps their first-seen time. */
export function durationConditions(s: ClusterSnapshot): string[] {
  const keys: string[] = [];
  for (const n of s.nodes) {
    if (n.role === 'replica' && !n.streaming && !n.fenced) keys.push(`not_streaming:${n.name}`);
    if (n.role === 'primary' && n.archiver?.failing) keys.push(`archiver_failing:${n.name}`);
  }
  return keys;
}

export function evaluateRules(i: RuleInput): Finding[] {
  const s = i.snapshot;
  const out: Finding[] = [];
  if (s.writable.length > 1) out.push(splitBrain(s.writable));
  const primaryDown = s.nodes.find((n) => n.name === i.lastPrimary && !n.up);
  for (const n of s.nodes) if (!n.up) out.push(n === primaryDown ? primaryDownFinding(n, i) : nodeDown(n, i));
  if (s.writable.length === 0 && !primaryDown) out.push(noPrimary(s));
  // Without a single primary, replicas cannot stream and lag is undefined: the alerts above say why.
  if (s.primary) {
    for (const n of s.nodes) if (n.role === 'replica') out.push(...replicaFindings(n, i));
  }
  for (const n of s.nodes) if (n.role === 'primary' && n.archiver?.failing) out.push(archiverFailing(n, i));
  for (const d of i.disks) {
    const f = diskFinding(d, i.thresholds);
    if (f) out.push(f);
  }
  if (i.backupOverdue) {
    out.push({
      rule: 'backup_overdue',
      subject: 'cluster',
      node: null,
      severity: 'warn',
      title: 'Backup overdue',
      text: i.backupOverdue,
      value: i.backupOverdue,
      threshold: 'a backup within its schedule',
      next: 'look at /cluster backups, then run /cluster backup full (or fix what made the scheduled one fail)',
    });
  }
  return out;
}

function splitBrain(writable: string[]): Finding {
  return {
    rule: 'split_brain',
    subject: 'cluster',
    node: null,
    severity: 'crit',
    title: `SPLIT BRAIN: ${both(writable)} ${writable.length === 2 ? 'both' : 'all'} accept writes`,
    text: `${writable.length} nodes are writable primaries at once (${writable.join(', ')}). Clients may be writing to both and their histories are diverging.`,
    value: `${writable.length} writable primaries: ${writable.join(', ')}`,
    threshold: 'exactly 1 writable primary',
    next: `decide which node keeps the writes, stop the other now (/cluster stop <node>) and turn it back into a replica (/cluster rejoin <node>); do not start a failover`,
  };
}

function downValue(n: NodeStatus): string {
  const state = n.running === false ? 'process not running' : `not answering${n.error ? `: ${n.error}` : ''}`;
  return n.cause ? `${state} — ${n.cause}` : state;
}

/** A full disk is fixed by freeing space, not by a restart alone. */
function freeSpaceFirst(n: NodeStatus): string {
  return isDiskFull(n.cause) ? `free space on ${n.name}'s full disk (its pg_wal folder: df shows which), then ` : '';
}

function primaryDownFinding(n: NodeStatus, i: RuleInput): Finding {
  return {
    rule: 'primary_down',
    subject: n.name,
    node: n.name,
    severity: 'crit',
    title: `Primary down: ${n.name}`,
    text: `The primary ${n.name} (${n.host}:${n.port}) is down: no node accepts writes.`,
    value: downValue(n),
    threshold: `the primary answers within PG_CONNECT_TIMEOUT_MS (${i.thresholds.PG_CONNECT_TIMEOUT_MS} ms)`,
    next: `${freeSpaceFirst(n)}check /cluster logs ${n.name}; try /cluster start ${n.name}; if it cannot come back quickly, start a failover (button below or /cluster failover)`,
    failover: true,
  };
}

function nodeDown(n: NodeStatus, i: RuleInput): Finding {
  return {
    rule: 'node_down',
    subject: n.name,
    node: n.name,
    severity: 'warn',
    title: `Node down: ${n.name}`,
    text: n.fenced
      ? `${n.name} (${n.host}:${n.port}) is down and fenced after a failover; the cluster has one replica less until it is rejoined.`
      : `${n.name} (${n.host}:${n.port}) is down; the cluster has one replica less.`,
    value: downValue(n),
    threshold: `every node answers within PG_CONNECT_TIMEOUT_MS (${i.thresholds.PG_CONNECT_TIMEOUT_MS} ms)`,
    next: n.fenced ? `/cluster rejoin ${n.name}` : `${freeSpaceFirst(n)}check /cluster logs ${n.name}, then /cluster start ${n.name}`,
  };
}

function noPrimary(s: ClusterSnapshot): Finding {
  const up = s.nodes.filter((n) => n.up);
  return {
    rule: 'no_primary',
    subject: 'cluster',
    node: null,
    severity: 'crit',
    title: 'No writable primary',
    text: `No node accepts writes: ${up.length}/${s.nodes.length} nodes are up and all of them are read-only replicas.`,
    value: `0 writable nodes (${up.map((n) => n.name).join(', ') || 'none'} up)`,
    threshold: 'exactly 1 writable primary',
    next: 'look at /cluster status; start the old primary if it can come back, otherwise start a failover (button below or /cluster failover)',
    failover: true,
  };
}

function replicaFindings(n: NodeStatus, i: RuleInput): Finding[] {
  const t = i.thresholds;
  const out: Finding[] = [];
  const notStreamingSince = i.since[`not_streaming:${n.name}`];
  if (!n.streaming && !n.fenced && notStreamingSince !== undefined) {
    const secs = (i.now - notStreamingSince) / 1000;
    const sev = level(secs, t.NOT_STREAMING_WARN_SECONDS || 0.001, t.NOT_STREAMING_CRIT_SECONDS);
    if (sev) {
      out.push({
        rule: 'not_streaming',
        subject: n.name,
        node: n.name,
        severity: sev,
        title: `Replica not streaming: ${n.name}`,
        text: `${n.name} is up but its WAL receiver is not streaming from the primary, so it falls further behind (it may still replay from the WAL archive).`,
        value: `not streaming for ${formatSeconds(secs)}`,
        threshold: `warn after ${t.NOT_STREAMING_WARN_SECONDS} s, crit after ${t.NOT_STREAMING_CRIT_SECONDS} s`,
        next: `check /cluster logs ${n.name} (authentication, primary_conninfo, missing WAL); /cluster follow ${n.name} points it at the current primary`,
      });
    }
  }
  const paused = n.replayPaused ? ` Replay is paused on ${n.name}.` : '';
  const lagNext = n.replayPaused
    ? `resume replay on ${n.name} (SELECT pg_wal_replay_resume()); a failover to it now would wait for the backlog`
    : `check ${n.name}'s load, disk and network (/cluster nodes); a failover to it now could lose up to this much`;
  const bytesSev = n.lagBytes === null ? null : level(n.lagBytes, t.LAG_BYTES_WARN, t.LAG_BYTES_CRIT);
  if (bytesSev) {
    out.push({
      rule: 'lag_bytes',
      subject: n.name,
      node: n.name,
      severity: bytesSev,
      title: `Replication lag: ${n.name} is ${formatBytes(n.lagBytes)} behind`,
      text: `${n.name} has replayed ${formatBytes(n.lagBytes)} less WAL than the primary has written.${paused}`,
      value: `${formatBytes(n.lagBytes)} (${n.lagBytes} bytes)`,
      threshold: `warn ≥ ${formatBytes(t.LAG_BYTES_WARN)}, crit ≥ ${formatBytes(t.LAG_BYTES_CRIT)}`,
      next: lagNext,
    });
  }
  const secondsSev = n.lagSeconds === null ? null : level(n.lagSeconds, t.LAG_SECONDS_WARN, t.LAG_SECONDS_CRIT);
  if (secondsSev) {
    out.push({
      rule: 'lag_seconds',
      subject: n.name,
      node: n.name,
      severity: secondsSev,
      title: `Replay delay: ${n.name} is ${formatSeconds(n.lagSeconds)} behind`,
      text: `The last transaction ${n.name} replayed was committed ${formatSeconds(n.lagSeconds)} ago while newer WAL is waiting.${paused}`,
      value: formatSeconds(n.lagSeconds),
      threshold: `warn ≥ ${t.LAG_SECONDS_WARN} s, crit ≥ ${t.LAG_SECONDS_CRIT} s`,
      next: lagNext,
    });
  }
  return out;
}

function archiverFailing(n: NodeStatus, i: RuleInput): Finding {
  const a = n.archiver!;
  const since = i.since[`archiver_failing:${n.name}`] ?? i.now;
  const minutes = (i.now - since) / 60_000;
  const critAfter = i.thresholds.ARCHIVER_FAILING_CRIT_MINUTES;
  return {
    rule: 'archiver_failing',
    subject: n.name,
    node: n.name,
    severity: critAfter > 0 && minutes >= critAfter ? 'crit' : 'warn',
    title: `WAL archiver failing on ${n.name}`,
    text: `archive_command fails on ${n.name}: WAL segments pile up in pg_wal, and backups and point-in-time recovery miss them until it works again.`,
    value: `last attempt failed (${a.lastFailedWal ?? '?'} at ${a.lastFailedTime?.slice(11, 19) ?? '?'} UTC; ${a.failedCount} failures since the statistics reset)`,
    threshold: `every archive attempt succeeds; crit after ${critAfter} min of failures`,
    next: `check the archive folder ${i.thresholds.walArchiveDir} (permissions, free space) and /cluster logs ${n.name}`,
  };
}

function diskFinding(d: DiskUsage, t: Thresholds): Finding | null {
  const sev = level(d.usedPercent, t.DISK_USAGE_WARN, t.DISK_USAGE_CRIT);
  if (!sev) return null;
  return {
    rule: 'disk_usage',
    subject: d.labels[0],
    node: d.nodes[0] ?? null,
    severity: sev,
    title: `Disk ${d.usedPercent.toFixed(0)}% full: ${d.labels.join(', ')}`,
    text: `The filesystem holding ${d.labels.join(', ')} is ${d.usedPercent.toFixed(1)}% full (${formatBytes(d.availBytes)} free). A full disk stops PostgreSQL, the WAL archive and backups.`,
    value: `${d.usedPercent.toFixed(1)}% used, ${formatBytes(d.availBytes)} free`,
    threshold: `warn ≥ ${t.DISK_USAGE_WARN}%, crit ≥ ${t.DISK_USAGE_CRIT}%`,
    next: `free space on ${d.paths[0]} (old backups: /cluster backups; a stuck archiver keeps WAL in pg_wal) or grow the filesystem`,
  };
}
