// The watcher's own look at the leader: one SQL round trip under a short deadline
// (PATRONI_PROBE_TIMEOUT_MS), on a connection kept open between cycles. A frozen PostgreSQL
// (stalled disk, SIGSTOP) accepts TCP and then says nothing, and Patroni's own view of it only
// changes when its leader key expires: this deadline is what makes the alert come in seconds.
import pg from 'pg';
import { adminClientConfig } from '../db/tls.js';
import type { Config, NodeConfig } from '../config.js';

export type LeaderSample =
  | { ok: true; inRecovery: boolean; timeline: number | null; lsn: string | null; nextXid: number | null }
  | { ok: false; timedOut: boolean; message: string };

// Patroni's own way to read the timeline of a primary: the first 8 hex digits of the current WAL file.
const SQL = `SELECT pg_is_in_recovery() AS ro,
  CASE WHEN pg_is_in_recovery() THEN NULL ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS tl,
  CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS lsn,
  pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xid`;

export class LeaderProbe {
  private readonly clients = new Map<string, pg.Client>();

  constructor(private readonly config: Config) {}

  /** One answer from `node` within the deadline, or why not (a timeout says so). */
  async sample(node: NodeConfig): Promise<LeaderSample> {
    const r = await this.rows<{ ro: boolean; tl: number | null; lsn: string | null; xid: string | null }>(node, SQL);
    if (!r.ok) return r;
    const row = r.rows[0];
    return { ok: true, inRecovery: row.ro, timeline: row.tl, lsn: row.lsn, nextXid: row.xid === null ? null : Number(row.xid) };
  }

  /** Any short query on the probe's connection, under the same deadline. */
  async rows<R>(node: NodeConfig, sql: string, params: unknown[] = []): Promise<{ ok: true; rows: R[] } | { ok: false; timedOut: boolean; message: string }> {
    // A new session also has to log in (a backend forked, SCRAM): that part gets the connect timeout,
    // so a busy host is not taken for a frozen one; an open session's round trip gets the short deadline.
    const deadlineMs = this.config.PATRONI_PROBE_TIMEOUT_MS + (this.clients.has(node.name) ? 0 : this.config.PG_CONNECT_TIMEOUT_MS);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), deadlineMs)));
    const attempt = this.query(node, sql, params).then(
      (r) => r,
      (e: unknown) => e as Error,
    );
    try {
      const r = await Promise.race([attempt, timeout]);
      if (r === 'timeout' || r instanceof Error) {
        this.drop(node.name);
        return r === 'timeout' ? { ok: false, timedOut: true, message: `timed out after ${deadlineMs} ms` } : { ok: false, timedOut: false, message: r.message };
      }
      return { ok: true, rows: r.rows as R[] };
    } finally {
      clearTimeout(timer);
    }
  }

  private async query(node: NodeConfig, sql: string, params: unknown[]): Promise<pg.QueryResult> {
    let client = this.clients.get(node.name);
    if (!client) {
      client = new pg.Client(adminClientConfig(this.config, node, { application_name: 'clusterbot-probe' }));
      const own = client;
      own.on('error', () => {
        if (this.clients.get(node.name) === own) this.drop(node.name);
      });
      this.clients.set(node.name, client);
      await client.connect();
    }
    return client.query(sql, params);
  }

  /** Forget a connection without waiting for a server that may never answer a goodbye. */
  private drop(name: string): void {
    const client = this.clients.get(name);
    this.clients.delete(name);
    if (!client) return;
    const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
    stream?.destroy();
    client.end().catch(() => undefined);
  }

  close(): void {
    for (const name of [...this.clients.keys()]) this.drop(name);
  }
}
