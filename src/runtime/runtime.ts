// Where nodes run. cluster/ decides; a Runtime acts. Two implementations: local.ts, docker.ts.
import type { NodeConfig } from '../config.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  stdin?: string;
  timeoutMs?: number;
  /** Streamed output, for progress on long work. */
  onOutput?: (chunk: string) => void;
}

export type RuntimeEvent =
  | { type: 'exit'; node: string; at: Date; expected: boolean }
  | { type: 'start'; node: string; at: Date };

/** PostgreSQL programs a runtime may run for a node; nothing else is ever executed. */
export const PG_TOOLS = [
  'pg_basebackup',
  'pg_rewind',
  'pg_verifybackup',
  'pg_controldata',
  'pg_ctl',
  'pg_waldump',
  'pg_isready',
  'psql',
  'pgbench',
  'initdb',
  // Not a PostgreSQL binary: the backup engine, installed beside them (Debian pgbackrest).
  'pgbackrest',
] as const;
export type PgTool = (typeof PG_TOOLS)[number];

export type StopMode = 'smart' | 'fast' | 'immediate';

/** One escalation of a fencing stop and how long it took: `{ how: 'SIGKILL of 7 processes', ms: 9 }`. */
export interface FenceStep {
  how: string;
  ms: number;
}

export interface ForceStopResult {
  /** What was done, in order; empty when nothing of the node was running. */
  steps: FenceStep[];
  /** What was proven afterwards, for the card: "nothing left on its data directory or port 5432". */
  proof: string;
}

export interface Runtime {
  readonly kind: 'local' | 'docker';
  /** Make sure binaries, folders and helper scripts exist (idempotent). */
  prepare(): Promise<void>;
  /** Has this node's data directory been initialised? */
  isProvisioned(node: NodeConfig): Promise<boolean>;
  /** initdb + seed settings + bootstrap SQL; leaves the node running. */
  initPrimary(node: NodeConfig): Promise<void>;
  /** Clone from `source` with pg_basebackup -R; leaves the node running as a streaming replica. */
  cloneReplica(node: NodeConfig, source: NodeConfig, opts?: ExecOptions): Promise<void>;
  start(node: NodeConfig): Promise<void>;
  stop(node: NodeConfig, mode?: StopMode): Promise<void>;
  /**
   * Bounded fencing stop. A node that does not answer is killed at once; one that answers gets a
   * clean fast shutdown for at most FENCE_STOP_MS, then the kill. Killing means every process of the
   * instance (a frozen child keeps the shared memory and the data directory). Returns only after it
   * has proven nothing of the node is left running; throws when something is (never promote then).
   */
  forceStop(node: NodeConfig, opts: { answers: boolean }): Promise<ForceStopResult>;
  /**
   * Why the node cannot answer, when the runtime itself sees it (a stopped postmaster, a paused
   * container): fencing then kills it without first waiting out a probe. null: not known frozen.
   */
  frozen(node: NodeConfig): Promise<string | null>;
  /** SIGKILL the postmaster: a crash, for tests and benchmarks. */
  kill(node: NodeConfig): Promise<void>;
  restart(node: NodeConfig): Promise<void>;
  isRunning(node: NodeConfig): Promise<boolean>;
  /**
   * Run a PostgreSQL program in the node's context (as the postgres OS user, or inside its container),
   * with PGDATA set to the node's data directory: `exec(node, 'pg_controldata', [])` must work on a
   * stopped node too (switchover reads the shutdown checkpoint of the stopped old primary).
   */
  exec(node: NodeConfig, tool: PgTool, args: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** The last lines of the node's PostgreSQL log (unmasked: callers mask). */
  logs(node: NodeConfig, lines: number): Promise<string>;
  /** Delete the node's data (the caller has asked for confirmation). */
  destroy(node: NodeConfig): Promise<void>;
  /**
   * Fencing: a fenced node must never again start as a writable primary (not after a process
   * restart, not after a container restart policy) until `unfence` — called by rejoin once it is
   * a replica of the new primary. May say how it fenced (shown on the card).
   */
  fence(node: NodeConfig, reason: string): Promise<string | void>;
  unfence(node: NodeConfig): Promise<void>;
  isFenced(node: NodeConfig): Promise<boolean>;
  /**
   * The primary_conninfo with which `replica` streams from `source`, as this runtime's network sees
   * it: user=replicator, passfile=… (never a password), application_name=<replica>. Failover writes
   * it into running replicas with ALTER SYSTEM.
   */
  replicationConninfo(source: NodeConfig, replica: NodeConfig): string;
  /**
   * pg_rewind the STOPPED node's data directory from the running `source`, then leave it configured
   * as a replica of `source` (standby.signal + primary_conninfo from replicationConninfo), not started.
   * Throws when pg_rewind fails (the caller may then re-clone with destroy + cloneReplica); the node
   * is left configured as a replica either way, so it can never start writable.
   */
  rewind(node: NodeConfig, source: NodeConfig, opts?: ExecOptions): Promise<void>;
  /**
   * Issue the node a new server certificate from the cluster CA (same file names, so the node's
   * ssl_cert_file/ssl_key_file settings stay); the caller reloads the node (pg_reload_conf) to serve it.
   */
  renewCertificate(node: NodeConfig): Promise<void>;
  /** Process exits and starts, as they happen. Returns an unsubscribe function. */
  watch(listener: (e: RuntimeEvent) => void): () => void;
  close(): Promise<void>;
}

/** The subscribers of a runtime's events; a failing listener is logged and never stops the others. */
export class RuntimeListeners {
  private readonly set = new Set<(e: RuntimeEvent) => void>();

  constructor(private readonly log: { error(obj: object, msg: string): void }) {}

  get size(): number {
    return this.set.size;
  }

  add(listener: (e: RuntimeEvent) => void): void {
    this.set.add(listener);
  }

  delete(listener: (e: RuntimeEvent) => void): void {
    this.set.delete(listener);
  }

  emit(event: RuntimeEvent): void {
    for (const l of this.set) {
      try {
        l(event);
      } catch (err) {
        this.log.error({ err }, 'runtime event listener failed');
      }
    }
  }

  clear(): void {
    this.set.clear();
  }
}
