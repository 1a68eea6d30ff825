// The stable write endpoint: a PgBouncer on WRITE_ENDPOINT_HOST:PORT that always reaches the
// primary. Native: started by /cluster up, repointed by failover, switchover and rejoin. Patroni:
// started by clusterbot start, kept on the leader by src/patroni/endpoint.ts. Any failure here is
// reported as a sentence and never stops a failover.
import type { NodeConfig } from '../../config.js';
import type { Services } from '../../core/context.js';
import { errorLine } from '../../errors.js';
import { driverFor, ownProcess } from './driver.js';
import { adminCommand } from './pgbouncer.js';

export { stopPgbouncer as stopWriteEndpoint } from './pgbouncer.js';

const PAUSE_TIMEOUT_MS = 10_000;

/** The endpoint applies (WRITE_ENDPOINT): either backend; on Docker, only with the compose service (endpointActive). */
export function endpointEnabled(s: Pick<Services, 'config'>): boolean {
  return s.config.WRITE_ENDPOINT;
}

/** Enabled and deployed: on Docker only when the project has the pgbouncer service (profile endpoint). */
export async function endpointActive(s: Services): Promise<boolean> {
  if (!endpointEnabled(s)) return false;
  return (await driverFor(s)).present().catch(() => false);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitAdmin(s: Services, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    try {
      await adminCommand(s.config, 'SHOW VERSION', 2000);
      return;
    } catch (e) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`PgBouncer does not answer on ${endpointAddress(s)} (${errorLine(e)})`);
      await sleep(200);
    }
  }
}

export const endpointAddress = (s: Pick<Services, 'config'>) => `${s.config.WRITE_ENDPOINT_HOST}:${s.config.WRITE_ENDPOINT_PORT}`;

export interface EndpointResult {
  ok: boolean;
  line: string;
}

/** /cluster up: write the ini for `primary` and start PgBouncer (or reload the running one). */
export async function ensureWriteEndpoint(s: Services, primary: NodeConfig): Promise<EndpointResult> {
  const addr = endpointAddress(s);
  try {
    const d = await driverFor(s);
    if (!(await d.present())) return { ok: false, line: `Write endpoint ${addr} not deployed: docker-compose --profile endpoint up -d pgbouncer` };
    if (await d.running()) {
      await d.writeTarget(primary);
      await adminCommand(s.config, 'RELOAD');
      return { ok: true, line: `Write endpoint: ${addr} → ${primary.name} (PgBouncer running, reloaded)` };
    }
    if (ownProcess(s)) {
      await d.writeTarget(primary);
      return { ok: true, line: `Write endpoint: ${addr} → ${primary.name} (${await d.start()})` };
    }
    const how = await d.start();
    await waitAdmin(s, 15_000);
    await d.writeTarget(primary);
    await adminCommand(s.config, 'RELOAD');
    return { ok: true, line: `Write endpoint: ${addr} → ${primary.name} (${how})` };
  } catch (e) {
    s.log.warn({ err: errorLine(e) }, 'write endpoint not started');
    return { ok: false, line: `Write endpoint ${addr} NOT available: ${errorLine(e)}` };
  }
}

/** Switchover: hold new queries at the endpoint once running transactions end (before the old primary stops). */
export async function pauseEndpoint(s: Services): Promise<EndpointResult> {
  try {
    await adminCommand(s.config, 'PAUSE', PAUSE_TIMEOUT_MS);
    return { ok: true, line: `${endpointAddress(s)} paused: clients' queries wait instead of failing` };
  } catch (e) {
    return { ok: false, line: `write endpoint ${endpointAddress(s)} could not be paused (${errorLine(e)}): clients through it may see errors` };
  }
}

/**
 * Point the endpoint at `primary` (which has accepted a write) and RESUME it. The ini is rewritten
 * even when PgBouncer is unreachable, so it starts on the right target.
 */
export async function repointEndpoint(s: Services, primary: NodeConfig, opts: { resume: boolean }): Promise<EndpointResult> {
  const addr = endpointAddress(s);
  try {
    await (await driverFor(s)).writeTarget(primary);
  } catch (e) {
    return { ok: false, line: `write endpoint ${addr} NOT repointed: cannot write its configuration (${errorLine(e)})` };
  }
  try {
    await adminCommand(s.config, 'RELOAD');
    if (opts.resume) await adminCommand(s.config, 'RESUME').catch((e: unknown) => {
      // "already running": nothing was paused (a PAUSE that failed earlier).
      if (!/not paused|already/i.test(errorLine(e))) throw e;
    });
    return { ok: true, line: `${addr} → ${primary.name}${opts.resume ? ', resumed' : ''}` };
  } catch (e) {
    return {
      ok: false,
      line: `write endpoint ${addr} unreachable (${errorLine(e)}): NOT repointed — its configuration now names ${primary.name}; start it with /cluster up`,
    };
  }
}

/** Stop the endpoint (/cluster down): our process, or the compose service's container. */
export async function stopEndpoint(s: Services): Promise<boolean> {
  return (await driverFor(s)).stop();
}

/** A paused endpoint must never stay paused: RESUME after an aborted switchover. */
export async function resumeEndpoint(s: Services): Promise<void> {
  await adminCommand(s.config, 'RESUME').catch(() => undefined);
}

/** The status line: "127.0.0.1:6432 → standby", with what is wrong when something is (null: not deployed on Docker). */
export async function endpointStatus(s: Services, primary: string | null): Promise<{ value: string; data: Record<string, unknown> } | null> {
  const addr = endpointAddress(s);
  const d = await driverFor(s);
  if (!(await d.present().catch(() => false))) return null;
  const [target, running] = await Promise.all([d.target().catch(() => null), d.running().catch(() => false)]);
  const problems: string[] = [];
  if (!running) problems.push(`PgBouncer is NOT running — ${s.config.CLUSTER_BACKEND === 'patroni' ? 'clusterbot start starts it' : '/cluster up starts it'}`);
  if (running && target && primary && target !== primary) problems.push(`the primary is ${primary}: repoint pending`);
  return {
    value: `${addr} → ${target ?? 'nothing'}${problems.length ? ` (${problems.join('; ')})` : ''}`,
    data: { writeEndpointProxy: { address: addr, target, running } },
  };
}
