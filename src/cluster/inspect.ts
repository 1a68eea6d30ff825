// Gather first, render second: read every node in parallel and fill a ClusterSnapshot.
// A node that does not answer is "down" with a reason; it never aborts the snapshot.
import type { Config, NodeConfig } from '../config.js';
import type { NodePools } from '../db/pools.js';
import { Deadline } from '../db/deadline.js';
import { describeDbError } from '../db/errors.js';
import type { PeerCertificate } from '../db/tls.js';
import { causeFromLog } from './down-cause.js';
import type { Runtime } from '../runtime/runtime.js';
import { lsnDiff } from './lsn.js';

export type Role = 'primary' | 'replica' | 'down';

export interface ArchiverStatus {
  archivedCount: number;
  lastArchivedWal: string | null;
  lastArchivedTime: string | null;
  failedCount: number;
  lastFailedWal: string | null;
  lastFailedTime: string | null;
  /** The last attempt failed (a failure newer than the last success). */
  failing: boolean;
}

export interface ReplicationPeer {
  applicationName: string;
  state: string;
  sentLsn: string | null;
  replayLsn: string | null;
  replayLagSeconds: number | null;
  syncState: string;
}

export interface NodeStatus {
  name: string;
  host: string;
  port: number;
  failover: boolean;
  role: Role;
  up: boolean;
  /** Process state from the runtime: false = stopped, true = running (maybe not answering). */
  running: boolean | null;
  error: string | null;
  /** A node that is down: the PANIC/FATAL line of its log that says why (e.g. "disk full (PANIC: …)"). */
  cause?: string | null;
  timeline: number | null;
  /** Current write LSN on a primary, last received LSN on a replica. */
  lsn: string | null;
  receiveLsn: string | null;
  replayLsn: string | null;
  lagBytes: number | null;
  lagSeconds: number | null;
  replayPaused: boolean;
  streaming: boolean;
  upstream: string | null;
  /** The node a replica's primary_conninfo names, even when it is not streaming (its primary is dead). */
  configuredUpstream?: string | null;
  syncState: string | null;
  /** The node was fenced by a failover and must be rejoined before it may serve again. */
  fenced: boolean;
  archiver: ArchiverStatus | null;
  replication: ReplicationPeer[];
  version: number | null;
  startedAt: string | null;
  /** The TLS certificate the node presented to the bot (serial, expiry), once it has answered. */
  certificate?: PeerCertificate | null;
}

export interface ClusterSnapshot {
  takenAt: string;
  durationMs: number;
  nodes: NodeStatus[];
  /** The single writable node, or null (none, or more than one: see `writable`). */
  primary: string | null;
  writable: string[];
}

interface Row {
  in_recovery: boolean;
  current_lsn: string | null;
  receive_lsn: string | null;
  replay_lsn: string | null;
  replay_paused: boolean;
  replay_delay: number | null;
  timeline: number | null;
  checkpoint_tli: number | null;
  primary_conninfo: string | null;
  wal_receiver: { status: string; sender_host: string | null; sender_port: number | null; received_tli: number | null } | null;
  replication: Array<{ application_name: string; state: string; sent_lsn: string | null; replay_lsn: string | null; replay_lag: number | null; sync_state: string }>;
  archiver: {
    archived_count: number;
    last_archived_wal: string | null;
    last_archived_time: string | null;
    failed_count: number;
    last_failed_wal: string | null;
    last_failed_time: string | null;
  } | null;
  version: number;
  started_at: Date;
}

// One round trip per node; CASE keeps primary-only functions off replicas and vice versa.
const NODE_SQL = `
SELECT pg_is_in_recovery() AS in_recovery,
  CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS current_lsn,
  pg_last_wal_receive_lsn()::text AS receive_lsn,
  pg_last_wal_replay_lsn()::text AS replay_lsn,
  CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END AS replay_paused,
  CASE WHEN NOT pg_is_in_recovery() THEN 0
       WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
       ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END AS replay_delay,
  CASE WHEN pg_is_in_recovery() THEN (SELECT received_tli FROM pg_stat_wal_receiver)
       ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS timeline,
  (SELECT timeline_id FROM pg_control_checkpoint()) AS checkpoint_tli,
  CASE WHEN pg_is_in_recovery() THEN (SELECT setting FROM pg_settings WHERE name = 'primary_conninfo') END AS primary_conninfo,
  (SELECT row_to_json(w) FROM (SELECT status, sender_host, sender_port, received_tli FROM pg_stat_wal_receiver) w) AS wal_receiver,
  (SELECT coalesce(json_agg(r), '[]'::json) FROM (
     SELECT application_name, state, sent_lsn::text, replay_lsn::text,
            extract(epoch FROM replay_lag)::float8 AS replay_lag, sync_state
     FROM pg_stat_replication) r) AS replication,
  (SELECT row_to_json(a) FROM (
     SELECT archived_count, last_archived_wal, last_archived_time, failed_count, last_failed_wal, last_failed_time
     FROM pg_stat_archiver) a) AS archiver,
  current_setting('server_version_num')::int AS version,
  pg_postmaster_start_time() AS started_at`;

export interface InspectDeps {
  config: Config;
  pools: NodePools;
  runtime: Runtime;
  /** Optional: is this node fenced? (failover module) */
  isFenced?: (node: NodeConfig) => Promise<boolean>;
  /** Masks secrets in what is read from a node's log. */
  mask?: (text: string) => string;
}

/** How much of a down node's log is read for its cause (clients refused during a crash restart fill it fast). */
const CAUSE_LOG_LINES = 500;

/**
 * Every node at once under ONE deadline (PG_CONNECT_TIMEOUT_MS): a hung node costs that once and
 * shows "no answer (timed out after N ms)"; the others are shown in full.
 */
export async function inspectCluster(deps: InspectDeps): Promise<ClusterSnapshot> {
  const started = performance.now();
  const deadline = new Deadline(deps.config.PG_CONNECT_TIMEOUT_MS);
  const results = await Promise.all(deps.config.nodes.map((n) => inspectNode(deps, n, deadline)));
  const writable = results.filter((r) => r.status.role === 'primary').map((r) => r.status.name);
  const primary = writable.length === 1 ? writable[0] : null;
  const primaryRow = primary ? results.find((r) => r.status.name === primary)!.row : null;
  for (const { status, row } of results) {
    if (status.role !== 'replica' || !row) continue;
    if (primaryRow?.current_lsn) status.lagBytes = Math.max(0, lsnDiff(primaryRow.current_lsn, row.replay_lsn) ?? 0);
    status.lagSeconds = Math.max(0, row.replay_delay ?? 0);
    status.upstream = resolveUpstream(deps.config.nodes, row.wal_receiver);
    status.configuredUpstream = configuredUpstream(deps.config.nodes, row.primary_conninfo);
    const peer = primaryRow?.replication.find((p) => p.application_name === status.name);
    status.syncState = peer?.sync_state ?? null;
  }
  return {
    takenAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - started),
    nodes: results.map((r) => r.status),
    primary,
    writable,
  };
}

async function inspectNode(deps: InspectDeps, node: NodeConfig, deadline: Deadline): Promise<{ status: NodeStatus; row: Row | null }> {
  const asked: Promise<{ row: Row | null; error: string | null }> = deps.pools.queryWithin<Row>(node, NODE_SQL, [], deadline).then(
    (r) => ({ row: r.rows[0], error: null }),
    (e: unknown) => ({ row: null, error: describeDbError(e) }),
  );
  // A node the runtime sees frozen (a stopped postmaster, a paused container) cannot answer: no need to
  // wait out the deadline for it (a runtime view without `frozen`, the Patroni backend's, just waits).
  const frozen = deadline.settle(Promise.resolve().then(() => deps.runtime.frozen(node)), null);
  const [query, running, fenced] = await Promise.all([
    Promise.race([asked, frozen.then((why) => (why ? { row: null, error: `no answer (frozen: ${why})` } : asked))]),
    // A runtime that hangs too (a stuck container engine) must not hold the round up either.
    deadline.settle(deps.runtime.isRunning(node), null),
    deps.isFenced ? deadline.settle(deps.isFenced(node), false) : Promise.resolve(false),
  ]);
  const status = emptyStatus(node, running, fenced);
  const row = query.row;
  if (!row) {
    status.error = running === false ? 'stopped' : query.error;
    // A runtime view without logs (the Patroni backend's) just has no cause to show.
    const log = await deadline.settle(Promise.resolve().then(() => deps.runtime.logs(node, CAUSE_LOG_LINES)), '');
    const cause = causeFromLog(log);
    status.cause = cause && deps.mask ? deps.mask(cause) : cause;
    return { status, row: null };
  }
  status.up = true;
  status.certificate = deps.pools.certificate(node);
  status.role = row.in_recovery ? 'replica' : 'primary';
  status.timeline = row.timeline ?? row.checkpoint_tli;
  status.lsn = row.in_recovery ? row.receive_lsn ?? row.replay_lsn : row.current_lsn;
  status.receiveLsn = row.receive_lsn;
  status.replayLsn = row.replay_lsn;
  status.replayPaused = row.replay_paused;
  status.streaming = row.in_recovery && row.wal_receiver?.status === 'streaming';
  status.version = row.version;
  status.startedAt = row.started_at?.toISOString?.() ?? null;
  status.replication = row.replication.map((p) => ({
    applicationName: p.application_name,
    state: p.state,
    sentLsn: p.sent_lsn,
    replayLsn: p.replay_lsn,
    replayLagSeconds: p.replay_lag,
    syncState: p.sync_state,
  }));
  status.archiver = row.archiver ? archiverStatus(row.archiver) : null;
  if (!row.in_recovery) status.lagBytes = 0;
  return { status, row };
}

function emptyStatus(node: NodeConfig, running: boolean | null, fenced: boolean): NodeStatus {
  return {
    name: node.name,
    host: node.host,
    port: node.port,
    failover: node.failover,
    role: 'down',
    up: false,
    running,
    error: null,
    timeline: null,
    lsn: null,
    receiveLsn: null,
    replayLsn: null,
    lagBytes: null,
    lagSeconds: null,
    replayPaused: false,
    streaming: false,
    upstream: null,
    syncState: null,
    fenced,
    archiver: null,
    replication: [],
    version: null,
    startedAt: null,
  };
}

function archiverStatus(a: NonNullable<Row['archiver']>): ArchiverStatus {
  const failed = a.last_failed_time ? Date.parse(a.last_failed_time) : 0;
  const ok = a.last_archived_time ? Date.parse(a.last_archived_time) : 0;
  return {
    archivedCount: Number(a.archived_count),
    lastArchivedWal: a.last_archived_wal,
    lastArchivedTime: a.last_archived_time,
    failedCount: Number(a.failed_count),
    lastFailedWal: a.last_failed_wal,
    lastFailedTime: a.last_failed_time,
    failing: failed > ok,
  };
}

function conninfoTarget(conninfo: string): { host: string | null; port: number | null } {
  const host = /(?:^|\s)host='?([^'\s]+)/.exec(conninfo)?.[1] ?? null;
  const port = /(?:^|\s)port='?(\d+)/.exec(conninfo)?.[1];
  return { host, port: port ? Number(port) : null };
}

function configuredUpstream(nodes: NodeConfig[], conninfo: string | null): string | null {
  const t = conninfoTarget(conninfo ?? '');
  return t.port ? resolveUpstream(nodes, { status: 'configured', sender_host: t.host, sender_port: t.port, received_tli: null }) : null;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Which configured node a replica's WAL receiver streams from. */
export function resolveUpstream(nodes: NodeConfig[], wr: Row['wal_receiver']): string | null {
  if (!wr?.sender_port) return null;
  const host = wr.sender_host ?? '';
  const exact = nodes.find((n) => n.host === host && n.port === wr.sender_port);
  if (exact) return exact.name;
  if (LOOPBACK.has(host) || host.startsWith('/')) {
    const byPort = nodes.find((n) => LOOPBACK.has(n.host) && n.port === wr.sender_port);
    if (byPort) return byPort.name;
  }
  // Container networks: the sender is a service name such as postgresql-primary.
  const byName = nodes.find((n) => host === n.name || host.endsWith(`-${n.name}`));
  return byName?.name ?? host;
}
