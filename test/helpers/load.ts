// A continuous write load that follows the writable node, and a watcher that counts writable nodes.
// Both use their own connections (not the bot's pools), like an application would.
import pg from 'pg';
import type { Config, NodeConfig } from '../../src/config.js';
import { adminClientConfig } from '../../src/db/tls.js';

function poolFor(config: Config, node: NodeConfig): pg.Pool {
  const p = new pg.Pool({
    ...adminClientConfig(config, node),
    max: 1,
    connectionTimeoutMillis: 1000,
    query_timeout: 3000,
  });
  p.on('error', () => undefined);
  // A client dropped after its query timeout may still get the server's FATAL (a paused node thawed by docker kill).
  p.on('connect', (client) => client.on('error', () => undefined));
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Inserts ids into proyecto.carga one autocommit statement at a time, on whichever node accepts it. */
export class WriteLoad {
  /** Ids whose INSERT returned success: committed. */
  readonly acked = new Set<number>();
  /** Ids whose outcome is unknown (the connection died during the statement). */
  readonly inDoubt = new Set<number>();
  private readonly pools: Array<{ name: string; pool: pg.Pool }>;
  private current = 0;
  private next: number;
  private running = true;
  private loop: Promise<void> | null = null;

  constructor(config: Config, firstId: number) {
    this.pools = config.nodes.map((n) => ({ name: n.name, pool: poolFor(config, n) }));
    this.next = firstId;
  }

  start(): this {
    this.loop = this.run();
    return this;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const id = this.next++;
      const { name, pool } = this.pools[this.current];
      try {
        await pool.query('INSERT INTO proyecto.carga (id, nodo) VALUES ($1, $2)', [id, name]);
        this.acked.add(id);
        await sleep(5);
      } catch (e) {
        const err = e as { code?: string; message?: string };
        // Refused before anything was written: read-only replica, or nobody listening.
        const surelyNot = err.code === '25006' || /ECONNREFUSED|timeout exceeded when trying to connect|the database system is (starting up|shutting down|in recovery)/.test(err.message ?? '') || err.code === '57P03';
        if (!surelyNot) this.inDoubt.add(id);
        this.current = (this.current + 1) % this.pools.length;
        await sleep(20);
      }
    }
  }

  async waitAcked(n: number, timeoutMs = 30_000): Promise<void> {
    const t0 = Date.now();
    const target = this.acked.size + n;
    while (this.acked.size < target) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`write load: only ${this.acked.size}/${target} acked after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.all(this.pools.map((p) => p.pool.end().catch(() => undefined)));
  }
}

/** Polls every node: how many accept writes (not in recovery) at each moment. */
export class WritableWatcher {
  readonly samples: Array<{ at: number; writable: string[] }> = [];
  private readonly pools: Array<{ name: string; pool: pg.Pool }>;
  private running = true;
  private loop: Promise<void> | null = null;

  constructor(config: Config) {
    this.pools = config.nodes.map((n) => ({ name: n.name, pool: poolFor(config, n) }));
  }

  start(): this {
    this.loop = this.run();
    return this;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const answers = await Promise.all(
        this.pools.map(async ({ name, pool }) => {
          const r = await pool.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r').catch(() => null);
          return r && !r.rows[0].r ? name : null;
        }),
      );
      this.samples.push({ at: Date.now(), writable: answers.filter((x): x is string => x !== null) });
      await sleep(50);
    }
  }

  /** The samples that saw more than one writable node (a split brain): must stay empty. */
  get splitBrain(): Array<{ at: number; writable: string[] }> {
    return this.samples.filter((s) => s.writable.length > 1);
  }

  /** Waits for `n` more samples of every node (e.g. after a thaw), with a deadline. */
  async moreSamples(n: number, timeoutMs = 60_000): Promise<void> {
    const target = this.samples.length + n;
    const t0 = Date.now();
    while (this.samples.length < target) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`writable watcher: only ${this.samples.length}/${target} samples after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  get maxWritable(): number {
    return Math.max(0, ...this.samples.map((s) => s.writable.length));
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.all(this.pools.map((p) => p.pool.end().catch(() => undefined)));
  }
}
