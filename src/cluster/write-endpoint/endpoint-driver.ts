// What index.ts drives: the write endpoint's PgBouncer wherever it runs (driver.ts, docker-driver.ts).
import type { NodeConfig } from '../../config.js';

export interface EndpointDriver {
  /** Is there an endpoint to manage (Docker: the compose service was deployed)? */
  present(): Promise<boolean>;
  running(): Promise<boolean>;
  /** The node the endpoint's configuration names, or null. */
  target(): Promise<string | null>;
  /** Rewrite the configuration to reach `target` (a RELOAD applies it). */
  writeTarget(target: NodeConfig): Promise<void>;
  /** Start it; returns how ("PgBouncer started, pid 123"). */
  start(): Promise<string>;
  stop(): Promise<boolean>;
}
