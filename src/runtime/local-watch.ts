// Start and exit events of the local nodes. A node is a daemon (pg_ctl), not our child, so there is no
// exit to wait on: its postmaster is polled every 200 ms while someone listens.
import type { NodeConfig } from '../config.js';
import { RuntimeListeners, type RuntimeEvent } from './runtime.js';

const POLL_MS = 200;

export class LocalNodeWatcher {
  private readonly listeners: RuntimeListeners;
  private poller: NodeJS.Timeout | null = null;
  private readonly alive = new Map<string, boolean>();
  private readonly expectedExit = new Set<string>();

  constructor(
    private readonly nodes: NodeConfig[],
    private readonly pidOf: (node: NodeConfig) => number | null,
    log: { error(obj: object, msg: string): void },
  ) {
    this.listeners = new RuntimeListeners(log);
  }

  /** We stop or kill it: its exit event says `expected`. */
  expectExit(node: NodeConfig): void {
    this.expectedExit.add(node.name);
  }

  /** We started it: a start event now, and a later exit is news again. */
  started(node: NodeConfig): void {
    this.alive.set(node.name, true);
    this.listeners.emit({ type: 'start', node: node.name, at: new Date() });
  }

  /** About to start it: an exit seen from now on was not asked for. */
  starting(node: NodeConfig): void {
    this.expectedExit.delete(node.name);
  }

  watch(listener: (e: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.poller) {
      for (const n of this.nodes) this.alive.set(n.name, this.pidOf(n) !== null);
      this.poller = setInterval(() => this.poll(), POLL_MS);
      this.poller.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.poller) {
        clearInterval(this.poller);
        this.poller = null;
      }
    };
  }

  private poll(): void {
    for (const n of this.nodes) {
      const now = this.pidOf(n) !== null;
      const before = this.alive.get(n.name) ?? false;
      if (now === before) continue;
      this.alive.set(n.name, now);
      if (now) this.listeners.emit({ type: 'start', node: n.name, at: new Date() });
      else {
        const expected = this.expectedExit.delete(n.name);
        this.listeners.emit({ type: 'exit', node: n.name, at: new Date(), expected });
      }
    }
  }

  close(): void {
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
    this.listeners.clear();
  }
}
