// The stable write endpoint: a PgBouncer on WRITE_ENDPOINT_HOST:PORT that always reaches the
// primary. Started by /cluster up, repointed by failover, switchover and rejoin. Any failure here
// is reported as a sentence and never stops a failover.
import type { NodeConfig } from '../../config.js';
import type { Services } from '../../core/context.js';
import { errorLine } from '../../errors.js';
import { adminCommand, configuredTarget, endpointPid, startPgbouncer, stopPgbouncer, writeEndpointConfig } from './pgbouncer.js';

export { stopPgbouncer as stopWriteEndpoint } from './pgbouncer.js';

const PAUSE_TIMEOUT_MS = 10_000;

/** The endpoint applies: enabled, local runtime, native backend. */
export function endpointEnabled(s: Pick<Services, 'config'>): boolean {
  const c = s.config;
  return c.WRITE_ENDPOINT && c.RUNTIME === 'local' && c.CLUSTER_BACKEND === 'native';
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
    writeEndpointConfig(s.config, primary);
    if (endpointPid(s.config)) {
      await adminCommand(s.config, 'RELOAD');
      return { ok: true, line: `Write endpoint: ${addr} → ${primary.name} (PgBouncer running, reloaded)` };
    }
    const pid = await startPgbouncer(s.config);
    return { ok: true, line: `Write endpoint: ${addr} → ${primary.name} (PgBouncer started, pid ${pid})` };
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
    writeEndpointConfig(s.config, primary);
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

/** A paused endpoint must never stay paused: RESUME after an aborted switchover. */
export async function resumeEndpoint(s: Services): Promise<void> {
  await adminCommand(s.config, 'RESUME').catch(() => undefined);
}

/** The status line: "127.0.0.1:6432 → standby", with what is wrong when something is. */
export function endpointStatus(s: Services, primary: string | null): { value: string; data: Record<string, unknown> } {
  const addr = endpointAddress(s);
  const target = configuredTarget(s.config);
  const running = endpointPid(s.config) !== null;
  const problems: string[] = [];
  if (!running) problems.push('PgBouncer is NOT running — /cluster up starts it');
  if (running && target && primary && target !== primary) problems.push(`the primary is ${primary}: repoint pending`);
  return {
    value: `${addr} → ${target ?? 'nothing'}${problems.length ? ` (${problems.join('; ')})` : ''}`,
    data: { writeEndpointProxy: { address: addr, target, running } },
  };
}
