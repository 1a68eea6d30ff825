// Where the read endpoint's HAProxy runs: our own daemon on this machine (local runtime), or the
// compose service `haproxy` of the project (Docker runtime). index.ts drives either the same way.
import type { Services } from '../../core/context.js';
import { haproxyFiles, haproxyPid, masterCommand, readLocalConfig, signalReload, startHaproxy, stopHaproxy, writeLocalConfig, type ReadServer } from './haproxy.js';

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

export function localDriver(s: Pick<Services, 'config' | 'node'>): ReadEndpointDriver {
  const { config } = s;
  return {
    present: async () => true,
    running: async () => haproxyPid(config) !== null,
    config: async () => readLocalConfig(config),
    write: (text) => writeLocalConfig(config, text),
    showProc: () => masterCommand(haproxyFiles(config).master, 'show proc'),
    reload: async () => signalReload(config),
    start: async () => `HAProxy started, pid ${await startHaproxy(config)}`,
    stop: () => stopHaproxy(config),
    bind: `${config.READ_ENDPOINT_HOST}:${config.READ_ENDPOINT_PORT}`,
    server: (name) => ({ name, host: s.node(name).host, port: s.node(name).port }),
    dockerDns: false,
    pidfile: haproxyFiles(config).pid,
  };
}

export async function readDriverFor(s: Pick<Services, 'config' | 'runtime' | 'node'>): Promise<ReadEndpointDriver> {
  if (s.config.RUNTIME === 'docker') {
    const { dockerReadDriver } = await import('./docker-driver.js');
    return dockerReadDriver(s);
  }
  return localDriver(s);
}
