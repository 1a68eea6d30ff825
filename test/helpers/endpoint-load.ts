// One application writing continuously through ONE address (the PgBouncer write endpoint, or a node's
// own port): a single connection, reconnecting after an error, like an app with one DSN. It records
// every error and the longest gap between two successful writes (the pause a user would notice).
import pg from 'pg';
import type { Config } from '../../src/config.js';
import { adminClientConfig } from '../../src/db/tls.js';
import { eventually } from './wait.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A connected client as the admin user to the project database at one address (errors after connect are ignored: the next query fails). */
export async function connectAs(config: Config, host: string, port: number, extra: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  const c = new pg.Client(adminClientConfig(config, { host, port }, extra));
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

export class AddressLoad {
  readonly acked: number[] = [];
  readonly errors: string[] = [];
  /** Server port that answered each successful write (which node it reached). */
  readonly ports = new Map<number, number>();
  longestPauseMs = 0;
  private lastOkAt = 0;
  private client: pg.Client | null = null;
  private running = true;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly config: Config,
    private readonly port: number,
    private next: number,
    private readonly host = '127.0.0.1',
  ) {}

  start(): this {
    this.loop = this.run();
    return this;
  }

  private connect(): Promise<pg.Client> {
    return connectAs(this.config, this.host, this.port, { connectionTimeoutMillis: 5000 });
  }

  private async run(): Promise<void> {
    while (this.running) {
      const id = this.next++;
      try {
        this.client ??= await this.connect();
        const r = await this.client.query<{ p: number }>('INSERT INTO proyecto.carga (id, nodo) VALUES ($1, $2) RETURNING inet_server_port() AS p', [id, `via:${this.port}`]);
        const now = Date.now();
        if (this.lastOkAt) this.longestPauseMs = Math.max(this.longestPauseMs, now - this.lastOkAt);
        this.lastOkAt = now;
        this.acked.push(id);
        this.ports.set(id, r.rows[0].p);
        await sleep(10);
      } catch (e) {
        this.errors.push(`${new Date().toISOString().slice(11, 23)} ${(e as Error).message}`);
        await this.client?.end().catch(() => undefined);
        this.client = null;
        await sleep(100);
      }
    }
  }

  /** Wait for `n` more successful writes; on timeout say what happened meanwhile. */
  async waitAcked(n: number, timeoutMs = 30_000): Promise<void> {
    const target = this.acked.length + n;
    const t0 = Date.now();
    while (this.acked.length < target) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`writes through :${this.port}: ${this.acked.length}/${target} after ${timeoutMs} ms; last errors: ${this.errors.slice(-3).join(' | ') || 'none'}`);
      await sleep(50);
    }
  }

  /** Milliseconds since the last successful write (since the start when none succeeded). */
  get silentMs(): number {
    return this.lastOkAt ? Date.now() - this.lastOkAt : 0;
  }

  /** The server port the newest successful write reached. */
  get lastPort(): number | undefined {
    const id = this.acked.at(-1);
    return id === undefined ? undefined : this.ports.get(id);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.client?.end().catch(() => undefined);
  }
}

/** How a server names itself in a query, the same through an endpoint as on its own port: "address:port". */
export const SERVER_ID_SQL = "host(inet_server_addr()) || ':' || inet_server_port()";

/**
 * One application reading continuously through ONE address (the HAProxy read endpoint): a read query
 * every few ms, a fresh session every `sessionQueries` queries (as a pool recycles connections, so the
 * balancing is exercised all along), and a reconnect after an error. It counts every error and
 * records which server answered each query and whether it was in recovery.
 */
export class ReadLoad {
  readonly errors: string[] = [];
  /** Every answered query, oldest first: the server ("address:port" as it sees itself) and whether it was a replica. */
  readonly answers: Array<{ at: number; server: string; replica: boolean }> = [];
  private client: pg.Client | null = null;
  private running = true;
  private loop: Promise<void> | null = null;
  private inSession = 0;

  constructor(
    private readonly config: Config,
    private readonly port: number,
    private readonly sessionQueries = 10,
    private readonly host = '127.0.0.1',
  ) {}

  start(): this {
    this.loop = this.run();
    return this;
  }

  private connect(): Promise<pg.Client> {
    return connectAs(this.config, this.host, this.port, { connectionTimeoutMillis: 10_000, query_timeout: 10_000 });
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (this.client && this.inSession >= this.sessionQueries) {
          await this.client.end();
          this.client = null;
        }
        if (!this.client) {
          this.client = await this.connect();
          this.inSession = 0;
        }
        const r = await this.client.query<{ id: string; r: boolean }>(`SELECT ${SERVER_ID_SQL} AS id, pg_is_in_recovery() AS r, count(*) FROM proyecto.usuarios`);
        this.inSession++;
        this.answers.push({ at: Date.now(), server: r.rows[0].id, replica: r.rows[0].r });
        await sleep(10);
      } catch (e) {
        const on = this.client && this.inSession > 0 ? ` (session on ${this.answers.at(-1)?.server})` : '';
        this.errors.push(`${new Date().toISOString().slice(11, 23)} ${(e as Error).message}${on}`);
        await this.client?.end().catch(() => undefined);
        this.client = null;
        await sleep(100);
      }
    }
  }

  /** Wait for `n` more answered queries; on timeout say what happened meanwhile. */
  async waitAnswers(n: number, timeoutMs = 60_000): Promise<void> {
    const target = this.answers.length + n;
    const t0 = Date.now();
    while (this.answers.length < target) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`reads through :${this.port}: ${this.answers.length}/${target} after ${timeoutMs} ms; last errors: ${this.errors.slice(-3).join(' | ') || 'none'}`);
      await sleep(50);
    }
  }

  /** The servers that answered the last `n` queries (distinct, sorted). */
  recentServers(n: number): string[] {
    return [...new Set(this.answers.slice(-n).map((a) => a.server))].sort();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.client?.end().catch(() => undefined);
  }
}

type Sql = <R extends Record<string, unknown>>(node: string, text: string) => Promise<R[]>;

/** The reader's last `n` answers came from exactly these nodes (a reload takes effect a moment after the pool changes). */
export async function answeredBy(sql: Sql, reader: ReadLoad, nodes: string[], n: number, timeoutMs = 60_000): Promise<void> {
  const want = (await Promise.all(nodes.map(async (x) => (await sql<{ id: string }>(x, `SELECT ${SERVER_ID_SQL} AS id`))[0].id))).sort();
  await reader.waitAnswers(n, timeoutMs);
  await eventually(`the last ${n} reads answered by ${nodes.join(', ')} (${want.join(', ')})`, async () => reader.recentServers(n), (got) => got.join(',') === want.join(','), { timeoutMs });
}

/**
 * Real replication lag: bulk inserts on the primary (into proyecto.bulto) until `node`, whose replay
 * the caller paused, is more than `bytes` behind as the bot's snapshot sees it.
 */
export async function lagBehind(
  sql: Sql,
  snapshot: () => Promise<{ nodes: Array<{ name: string; lagBytes: number | null }> }>,
  node: string,
  bytes: number,
  timeoutMs = 120_000,
): Promise<void> {
  await sql('primary', 'CREATE TABLE IF NOT EXISTS proyecto.bulto (id bigserial PRIMARY KEY, relleno text NOT NULL)');
  await eventually(`${node} more than ${bytes} bytes behind`, async () => {
    await sql('primary', "INSERT INTO proyecto.bulto (relleno) SELECT repeat('x', 500) FROM generate_series(1, 5000)");
    return (await snapshot()).nodes.find((n) => n.name === node)?.lagBytes ?? 0;
  }, (lag) => lag > bytes, { timeoutMs });
}
