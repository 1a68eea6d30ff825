// Where the write endpoint's PgBouncer runs: our own process on this machine (local runtime, and the
// Patroni backend, whose members the bot reaches by address), or the compose service `pgbouncer` of
// the project (Docker runtime). index.ts drives either the same way.
import type { Services } from '../../core/context.js';
import type { EndpointDriver } from './endpoint-driver.js';
import { configuredTarget, endpointPid, startPgbouncer, stopPgbouncer, writeEndpointConfig } from './pgbouncer.js';

export type { EndpointDriver } from './endpoint-driver.js';

export function localDriver(s: Pick<Services, 'config'>): EndpointDriver {
  const { config } = s;
  return {
    present: async () => true,
    running: async () => endpointPid(config) !== null,
    target: async () => configuredTarget(config),
    writeTarget: async (target) => writeEndpointConfig(config, target),
    start: async () => `PgBouncer started, pid ${await startPgbouncer(config)}`,
    stop: () => stopPgbouncer(config),
  };
}

/** Our own PgBouncer process on this machine (not a container of the project). */
export const ownProcess = (s: Pick<Services, 'config'>) => s.config.RUNTIME === 'local' || s.config.CLUSTER_BACKEND === 'patroni';

export async function driverFor(s: Pick<Services, 'config' | 'runtime'>): Promise<EndpointDriver> {
  if (!ownProcess(s)) {
    const { dockerDriver } = await import('./docker-driver.js');
    return dockerDriver(s);
  }
  return localDriver(s);
}
