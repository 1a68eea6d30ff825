// A client that queries one node all the way through a certificate rotation, as applications do:
// one long session, plus a new verify-full connection per query (it records the serial each saw).
import pg from 'pg';
import type { Config } from '../../src/config.js';
import { adminClientConfig, peerCertificate } from '../../src/db/tls.js';
import { eventually } from './wait.js';

export class RotationLoad {
  readonly errors: string[] = [];
  readonly serials = new Set<string>();
  queries = 0;
  private running = true;
  private done: Promise<void> = Promise.resolve();
  private held: pg.Client | null = null;

  constructor(
    private readonly config: Config,
    private readonly target: { host: string; port: number },
  ) {}

  async start(): Promise<this> {
    this.held = new pg.Client(adminClientConfig(this.config, this.target));
    await this.held.connect();
    this.done = this.loop();
    await this.waitMore(5);
    return this;
  }

  /** Until `n` more queries have succeeded (or failed: errors are kept, not thrown). */
  waitMore(n: number): Promise<number> {
    const from = this.queries + this.errors.length;
    return eventually(`${n} more queries`, () => this.queries + this.errors.length, (q) => q >= from + n);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    await this.held?.end().catch(() => undefined);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const fresh = new pg.Client(adminClientConfig(this.config, this.target, { connectionTimeoutMillis: 5000 }));
      try {
        await fresh.connect();
        const cert = peerCertificate(fresh);
        if (cert) this.serials.add(cert.serial);
        await fresh.query('SELECT 1');
        await this.held!.query('SELECT 1');
        this.queries++;
      } catch (e) {
        this.errors.push((e as Error).message);
      } finally {
        await fresh.end().catch(() => undefined);
      }
    }
  }
}
