// The read endpoint: an HAProxy on READ_ENDPOINT_HOST:PORT that spreads read-only sessions over the
// streaming replicas within the lag limits, with the primary as fallback (READ_FALLBACK_TO_PRIMARY).
// /cluster up starts it; the monitor's loop rewrites and reloads it whenever the pool changes (roles,
// streaming, lag). A failure here is logged and shown in status, never fatal.
import type { Config } from '../../config.js';
import type { Services } from '../../core/context.js';
import { errorLine } from '../../errors.js';
import type { ClusterSnapshot } from '../inspect.js';
import { readDriverFor, type ReadEndpointDriver } from './driver.js';
import { haproxyConfig, parseShowProc, poolOfConfig, type MasterState } from './haproxy.js';
import { outSummary, poolSummary, readPoolFor, samePool, type ReadLimits, type ReadPool } from './pool.js';

export { stopHaproxy as stopLocalReadEndpoint } from './haproxy.js';

/** The endpoint applies: enabled, native backend (local runtime, or Docker with the compose service). */
export function readEndpointEnabled(s: Pick<Services, 'config'>): boolean {
  return s.config.READ_ENDPOINT && s.config.CLUSTER_BACKEND === 'native';
}

/** Enabled and deployed: on Docker only when the project has the haproxy service (profile endpoint). */
export async function readEndpointActive(s: Services): Promise<boolean> {
  if (!readEndpointEnabled(s)) return false;
  return (await readDriverFor(s)).present().catch(() => false);
}

export const readEndpointAddress = (s: Pick<Services, 'config'>) => `${s.config.READ_ENDPOINT_HOST}:${s.config.READ_ENDPOINT_PORT}`;

export const readLimits = (c: Config): ReadLimits => ({
  maxLagBytes: c.READ_MAX_LAG_BYTES,
  maxLagSeconds: c.READ_MAX_LAG_SECONDS,
  fallbackToPrimary: c.READ_FALLBACK_TO_PRIMARY,
});

const configText = (s: Services, d: ReadEndpointDriver, pool: ReadPool) =>
  haproxyConfig({ bind: d.bind, pool, server: d.server, dockerDns: d.dockerDns, pidfile: d.pidfile });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** /cluster up: write the pool of `snap` and start HAProxy (or reload the running one). Returns the card's line. */
export async function ensureReadEndpoint(s: Services, snap: ClusterSnapshot): Promise<string> {
  const addr = readEndpointAddress(s);
  try {
    const d = await readDriverFor(s);
    if (!(await d.present())) return `Read endpoint ${addr} not deployed: docker-compose --profile endpoint up -d haproxy`;
    const pool = readPoolFor(snap, readLimits(s.config), poolOfConfig(await d.config().catch(() => null))?.members);
    let how: string;
    if (await d.running()) how = `HAProxy running, ${await applyPool(s, d, pool)}`;
    else if (s.config.RUNTIME === 'local') {
      await applyPool(s, d, pool);
      how = await d.start();
      applied.set(s, pool);
    } else {
      how = await d.start();
      await waitRunning(d);
      await applyPool(s, d, pool);
    }
    return `Read endpoint: ${addr} → ${poolSummary(pool)} (${how})`;
  } catch (e) {
    s.log.warn({ err: errorLine(e) }, 'read endpoint not started');
    return `Read endpoint ${addr} NOT available: ${errorLine(e)}`;
  }
}

async function waitRunning(d: ReadEndpointDriver): Promise<void> {
  for (let i = 0; i < 50 && !(await d.running()); i++) await sleep(200);
}

/** The pool each bot process last put in force (undefined: not read from the endpoint yet). */
const applied = new WeakMap<Services, ReadPool | null>();

/** The reload in progress per bot process: /cluster up and the monitor must not reload over each other. */
const inFlight = new WeakMap<Services, Promise<unknown>>();

/** Write the pool's configuration and, when HAProxy runs, reload it and wait until its master did. */
async function applyPool(s: Services, d: ReadEndpointDriver, pool: ReadPool): Promise<'reloaded' | 'written'> {
  const run = async (): Promise<'reloaded' | 'written'> => {
    await d.write(configText(s, d, pool));
    if (!(await d.running())) return 'written';
    await reloadAndWait(d);
    applied.set(s, pool);
    return 'reloaded';
  };
  const next = (inFlight.get(s) ?? Promise.resolve()).catch(() => undefined).then(run);
  inFlight.set(s, next);
  return next;
}

/** `show proc`, retried while the master re-executes itself (its socket is gone for a moment then). */
async function masterState(d: ReadEndpointDriver): Promise<MasterState> {
  const t0 = Date.now();
  for (;;) {
    try {
      const st = parseShowProc(await d.showProc());
      if (st) return st;
    } catch (e) {
      if (Date.now() - t0 > RELOAD_TIMEOUT_MS) throw e;
    }
    if (Date.now() - t0 > RELOAD_TIMEOUT_MS) throw new Error("HAProxy's master CLI gave no process list");
    await sleep(100);
  }
}

const RELOAD_TIMEOUT_MS = 10_000;

/** SIGUSR2, then `show proc` until the master counts one more reload (a failed one throws). */
async function reloadAndWait(d: ReadEndpointDriver): Promise<void> {
  const before = await masterState(d);
  await d.reload();
  const t0 = Date.now();
  let last = 'no answer';
  while (Date.now() - t0 < RELOAD_TIMEOUT_MS) {
    await sleep(50);
    // The master re-executes itself on a reload: its socket may be gone for a moment.
    const now = await d.showProc().then(parseShowProc, (e: unknown) => ((last = errorLine(e)), null));
    if (!now) continue;
    if (now.failed > before.failed) throw new Error('HAProxy could not load the new configuration; the previous one stays in force');
    if (now.reloads > before.reloads && now.workers.length > 0) return;
    last = `${now.reloads} reloads`;
  }
  throw new Error(`HAProxy did not finish its reload within ${RELOAD_TIMEOUT_MS / 1000} s (last: ${last})`);
}

/** The pool in force and the one `snap` calls for; null when the endpoint is off or not deployed. */
async function poolChange(s: Services, snap: ClusterSnapshot): Promise<PoolChange | null> {
  if (!readEndpointEnabled(s)) return null;
  const d = await readDriverFor(s);
  if (!applied.has(s)) {
    if (!(await d.present())) return null;
    applied.set(s, poolOfConfig(await d.config()));
  }
  const before = applied.get(s) ?? null;
  return { d, before, pool: readPoolFor(snap, readLimits(s.config), before?.members) };
}

type PoolChange = { d: ReadEndpointDriver; before: ReadPool | null; pool: ReadPool };

async function changePool(s: Services, c: PoolChange): Promise<void> {
  await applyPool(s, c.d, c.pool);
  s.log.info({ from: c.before ? poolSummary(c.before) : null, to: poolSummary(c.pool), out: outSummary(c.pool) }, 'read endpoint pool changed');
}

/**
 * The monitor's loop, on each snapshot: when the pool's servers changed, rewrite the configuration
 * and reload HAProxy (established sessions stay on the old workers until they end). Returns the
 * pool the snapshot calls for (null: no endpoint), for the monitor's rule.
 */
export async function keepReadPool(s: Services, snap: ClusterSnapshot): Promise<ReadPool | null> {
  const c = await poolChange(s, snap);
  // Not running: /cluster up starts it with the pool of that moment; nothing to reload.
  if (!c || samePool(c.pool, c.before) || !(await c.d.running())) return c?.pool ?? null;
  try {
    await changePool(s, c);
  } catch (e) {
    s.log.warn({ err: errorLine(e) }, 'read endpoint not updated; retrying on the next monitor loop');
  }
  return c.pool;
}

/**
 * At the end of a failover, switchover or rejoin: the pool of the new roles at once, instead of at
 * the monitor's next loop. Null when the endpoint is off or not deployed.
 */
export async function updateReadPool(s: Services): Promise<{ ok: boolean; line: string }> {
  const addr = readEndpointAddress(s);
  try {
    const c = await poolChange(s, await s.snapshot());
    if (!c) return { ok: true, line: `${addr} not deployed` };
    if (samePool(c.pool, c.before)) return { ok: true, line: `${addr} → ${poolSummary(c.pool)} (unchanged)` };
    if (!(await c.d.running())) return { ok: false, line: `read endpoint ${addr} is NOT running (its pool would be ${poolSummary(c.pool)}) — /cluster up starts it` };
    await changePool(s, c);
    return { ok: true, line: `${addr} → ${poolSummary(c.pool)}, reloaded` };
  } catch (e) {
    return { ok: false, line: `read endpoint ${addr} NOT updated (${errorLine(e)}); the monitor retries on its next loop` };
  }
}

/** The status line: "127.0.0.1:6433 → standby, readonly (fallback: primary)", with what is wrong (null: not deployed on Docker). */
export async function readEndpointStatus(s: Services, snap: ClusterSnapshot): Promise<{ value: string; data: Record<string, unknown> } | null> {
  const addr = readEndpointAddress(s);
  const d = await readDriverFor(s);
  if (!(await d.present().catch(() => false))) return null;
  const [text, running] = await Promise.all([d.config().catch(() => null), d.running().catch(() => false)]);
  // This process's last confirmed reload when there is one: the file changes a moment before HAProxy does.
  const inForce = applied.get(s) ?? poolOfConfig(text);
  const wanted = readPoolFor(snap, readLimits(s.config), inForce?.members);
  const problems: string[] = [];
  if (!running) problems.push('HAProxy is NOT running — /cluster up starts it');
  else if (inForce && !samePool(inForce, wanted)) problems.push(`update pending: ${poolSummary(wanted)}`);
  if (wanted.out.length) problems.push(outSummary(wanted));
  return {
    value: `${addr} → ${inForce ? poolSummary(inForce) : 'nothing configured'}${problems.length ? ` (${problems.join('; ')})` : ''}`,
    data: { readEndpoint: { address: addr, running, members: inForce?.members ?? [], fallback: inForce?.fallback ?? null, out: wanted.out } },
  };
}

/** Stop the endpoint (/cluster down): our process, or the compose service's container. */
export async function stopReadEndpoint(s: Services): Promise<boolean> {
  return (await readDriverFor(s)).stop();
}
