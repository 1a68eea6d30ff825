// One pg Pool per node. Pools emit 'error' when an idle client's server dies (a failover kills
// nodes on purpose): we log it, or the bot would crash.
import pg from 'pg';
import type { Config, NodeConfig } from '../config.js';
import type { Logger } from '../core/logger.js';
import { NoAnswerError, type Deadline } from './deadline.js';
import { isTimeout } from './errors.js';
import { adminClientConfig, peerCertificate, type PeerCertificate } from './tls.js';

export class NodePools {
  private readonly pools = new Map<string, pg.Pool>();
  /** The certificate each node presented on the newest connection to it (status, the expiry rule). */
  private readonly certificates = new Map<string, PeerCertificate>();

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  pool(node: NodeConfig, database = this.config.PG_DATABASE): pg.Pool {
    const key = `${node.name}/${database}`;
    let p = this.pools.get(key);
    if (!p) {
      p = new pg.Pool({
        ...adminClientConfig(this.config, node),
        database,
        max: 3,
        idleTimeoutMillis: 10_000,
        connectionTimeoutMillis: this.config.PG_CONNECT_TIMEOUT_MS,
        query_timeout: this.config.PG_QUERY_TIMEOUT_MS,
        statement_timeout: this.config.PG_QUERY_TIMEOUT_MS,
        application_name: 'clusterbot',
        allowExitOnIdle: true,
      });
      p.on('error', (err) => this.log.debug({ node: node.name, err: err.message }, 'idle connection lost'));
      p.on('connect', (client) => {
        // Every client, for its whole life: one dropped after a timeout may still hear its server's FATAL
        // (a paused node thawed by docker kill); a query in flight gets the error as its rejection anyway.
        client.on('error', () => undefined);
        const cert = peerCertificate(client);
        if (cert) this.certificates.set(node.name, cert);
      });
      this.pools.set(key, p);
    }
    return p;
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(node: NodeConfig, sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.pool(node).query<R>(sql, params);
  }

  /**
   * One query bounded by `deadline` in all: waiting for a pooled connection, connecting and the
   * query. At the deadline the connection is dropped (a frozen server would keep it, and a pool
   * slot, busy) and the promise rejects with a NoAnswerError.
   */
  async queryWithin<R extends pg.QueryResultRow = pg.QueryResultRow>(node: NodeConfig, sql: string, params: unknown[], deadline: Deadline): Promise<pg.QueryResult<R>> {
    let client: pg.PoolClient | null = null;
    let expired = false;
    // A server that dies mid-query also makes a checked-out client emit 'error' (the query's own
    // rejection reports it): without a listener that would crash the bot.
    const ignore = () => undefined;
    const release = (err?: Error) => {
      const c = client;
      client = null;
      // A dropped connection keeps the listener: a frozen server that thaws (or is killed: `docker kill`
      // thaws a paused container first) may still send its FATAL onto the closing socket.
      if (!err) c?.removeListener('error', ignore);
      c?.release(err);
    };
    const work = (async () => {
      const c = await this.pool(node).connect();
      if (expired) {
        c.release(); // connected after all, just too late for this round: keep it for the next one
        throw new NoAnswerError(deadline.ms);
      }
      client = c;
      c.on('error', ignore);
      try {
        const r = await c.query<R>(sql, params);
        release();
        return r;
      } catch (e) {
        release(e as Error);
        throw e;
      }
    })();
    const onTimeout = () => {
      expired = true;
      release(new NoAnswerError(deadline.ms));
    };
    return deadline.race(work, onTimeout).catch((e: unknown) => {
      throw isTimeout(e) ? new NoAnswerError(deadline.ms) : e;
    });
  }

  /** The certificate the node presented on the newest connection, or null before any. */
  certificate(node: NodeConfig): PeerCertificate | null {
    return this.certificates.get(node.name) ?? null;
  }

  /** Drop a node's pooled connections (after it was stopped, promoted or rewound). */
  async reset(node: NodeConfig): Promise<void> {
    for (const [key, p] of this.pools) {
      if (key.startsWith(`${node.name}/`)) {
        this.pools.delete(key);
        await p.end().catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.end().catch(() => undefined)));
  }
}
