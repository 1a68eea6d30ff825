// The cluster backend: what commands ask of whoever runs the nodes — clusterbot itself over a runtime
// (native: local processes or Docker containers) or Patroni. Like Patroni's dcs/ folder: one shape,
// one file per implementation. src/app.ts builds one per cluster; a command never knows which it has.
// An operation returns its card (a Reply, or a confirmation card whose Confirm runs it); a capability
// this backend does not have throws notOnThisBackend(): one line saying what to do instead.
import type { Reply } from '../chat/reply.js';
import type { NodeConfig } from '../config.js';
import type { ClusterSnapshot } from '../cluster/inspect.js';
import type { NodeData, ResetBackupHooks, ResetRequest, ResetResult } from '../cluster/reset.js';
import type { SyncMode } from '../cluster/sync/state.js';
import type { BackendMonitoring } from '../monitor/backend.js';
import { UserError } from '../errors.js';

export type BackendName = 'native' | 'patroni';

/** A line of /cluster status contributed by another part of the bot (backups, alerts, endpoints). */
export type StatusExtra = { label: string; value: string; data?: Record<string, unknown> };

/**
 * What commands need from a cluster. `C` is the command's context (src/core/command.ts): the backend
 * acts for the person who asked, reports progress on their message and asks for confirmations.
 */
export interface ClusterBackend<C> {
  readonly name: BackendName;
  /** "the Patroni backend": how refusals name it. */
  readonly label: string;
  /** The nodes and where to connect to them (host, port, failover eligibility). */
  readonly nodes: readonly NodeConfig[];
  node(name: string): NodeConfig;
  /** Every node's role, health, timeline, LSNs and lag, read live. */
  snapshot(): Promise<ClusterSnapshot>;
  /** The status card of a snapshot, with the backend's own view (Patroni's members) and the extras. */
  statusCard(snap: ClusterSnapshot, extras: StatusExtra[]): Promise<Reply>;

  /** Plan a failover and show its confirmation card; Confirm runs it. */
  failover(ctx: C, target: string | undefined, force: boolean): Promise<Reply>;
  /** Plan a zero-loss switchover and show its confirmation card; Confirm runs it. */
  switchover(ctx: C, target: string | undefined): Promise<Reply>;
  /** Make a former primary (or a broken member) a replica of the current primary again. */
  rejoin(ctx: C, node: string): Promise<Reply>;
  /** Point a running replica at the current primary. */
  follow(ctx: C, node: string): Promise<Reply>;
  start(ctx: C, node: string): Promise<Reply>;
  stop(ctx: C, node: string): Promise<Reply>;
  restart(ctx: C, node: string): Promise<Reply>;
  /** Create missing nodes and start stopped ones. */
  up(ctx: C): Promise<Reply>;
  /** Stop every node (after an admin confirms). */
  down(ctx: C): Promise<Reply>;
  /** Set synchronous replication (after an admin confirms). */
  sync(ctx: C, mode: SyncMode): Promise<Reply>;
  /** Maintenance on (for `seconds`, where the backend has an end time) or off. */
  maintenance(ctx: C, on: boolean, seconds: number | undefined): Promise<Reply>;
  /** The tail of a node's PostgreSQL log, unmasked (the command masks it). */
  logs(node: string, lines: number): Promise<{ text: string; source: string }>;
  /** What a reset would delete, node by node. */
  resetNodes(): Promise<NodeData[]>;
  /** Delete every node's data and initialise the cluster again. */
  resetCluster<K>(req: ResetRequest, hooks: ResetBackupHooks<K>): Promise<ResetResult<K>>;

  /** The backend's own alert rules for the one monitor, or null (the native rules cover it). */
  readonly monitoring: BackendMonitoring | null;
}

/** The one-line answer of a backend without `command`: what to do instead. */
export function notOnThisBackend(command: string, label: string, instead: string): UserError {
  return new UserError(`/cluster ${command} is not available with ${label}`, instead, 'precondition');
}
