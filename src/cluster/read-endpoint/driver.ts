// Where the read endpoint's HAProxy runs: our own daemon on this machine (local runtime), or the
// compose service `haproxy` of the project (Docker runtime). index.ts drives either the same way.
import type { Services } from '../../core/context.js';
import { haproxyFiles, haproxyPid, masterCommand, readLocalConfig, signalReload, startHaproxy, stopHaproxy, writeLocalConfig } from './haproxy.js';
import type { ReadEndpointDriver } from './endpoint-driver.js';

export type { ReadEndpointDriver } from './endpoint-driver.js';

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
