// What index.ts needs of wherever the read endpoint's HAProxy runs (driver.ts: local; docker-driver.ts: Docker).
import type { ReadServer } from './haproxy.js';

export interface ReadEndpointDriver {
  /** Is there an endpoint to manage (Docker: the compose service was deployed)? */
  present(): Promise<boolean>;
  running(): Promise<boolean>;
  /** The configuration in force, or null. */
  config(): Promise<string | null>;
  /** Check a configuration with haproxy -c and put it in place (a reload applies it). */
  write(text: string): Promise<void>;
  /** The master CLI's `show proc`. */
  showProc(): Promise<string>;
  /** SIGUSR2 to HAProxy's master. */
  reload(): Promise<void>;
  /** Start it; returns how ("HAProxy started, pid 123"). */
  start(): Promise<string>;
  stop(): Promise<boolean>;
  /** Where HAProxy listens, and how it reaches a node. */
  bind: string;
  server(name: string): ReadServer;
  dockerDns: boolean;
  pidfile?: string;
}
