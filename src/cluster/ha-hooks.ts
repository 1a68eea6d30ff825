// What synchronous replication and the write and read endpoints add to failover, switchover and rejoin, as
// steps those procedures call at fixed points. A failure here is a warning on the card, never a
// stopped failover (except strict sync, whose writes wait by design).
import type { NodeConfig } from '../config.js';
import type { Services } from '../core/context.js';
import type { Steps } from './failover/steps.js';
import { errorLine } from '../errors.js';
import { applySync, applySyncAfterPromotion, prepareSyncForPromotion, syncInUse } from './sync/apply.js';
import { readSyncState } from './sync/state.js';
import { ensureReadEndpoint, readEndpointActive, readEndpointEnabled, updateReadPool } from './read-endpoint/index.js';
import { endpointActive, endpointAddress, endpointEnabled, ensureWriteEndpoint, pauseEndpoint, repointEndpoint, resumeEndpoint } from './write-endpoint/index.js';

/**
 * The target's sync preparation, started before the fence so the two overlap (it changes a setting
 * on the replica to be promoted only: the old primary's commits still wait for it). Null when sync
 * is not in use. Awaited by beforePromotion; a fence that fails first leaves it handled.
 */
export function startSyncPreparation(s: Services, target: NodeConfig, alongside?: string): Promise<string> | null {
  if (!syncInUse(s)) return null;
  const t = performance.now();
  const started = prepareSyncForPromotion(s, target).then((line) => (alongside ? `${line} (${Math.round(performance.now() - t)} ms, alongside ${alongside})` : line));
  void started.catch(() => undefined);
  return started;
}

/** Before pg_promote: the target must not wait for synchronous replicas of its own yet (started now unless already under way). */
export async function beforePromotion(s: Services, steps: Steps, target: NodeConfig, started: Promise<string> | null = startSyncPreparation(s, target)): Promise<void> {
  if (!started) return;
  await steps.run(`sync: prepare ${target.name}`, () => started, (l) => l);
}

/** After the promotion was proven by a write: the sync mode on the new primary (warnings go to the card). */
export async function syncAfterPromotion(s: Services, steps: Steps, warnings: string[], primary: NodeConfig): Promise<void> {
  if (!syncInUse(s)) return;
  const r = await steps.run('synchronous replication', () => applySyncAfterPromotion(s, primary), (x) => x.line).catch((e: unknown) => {
    warnings.push(`synchronous replication not applied on ${primary.name}: ${(e as Error).message} — run /cluster sync again`);
    return null;
  });
  if (r?.warning) warnings.push(r.warning);
}

/** Switchover, before the old primary stops: PAUSE the endpoint. Returns whether it must be resumed. */
export async function pauseWriteEndpoint(s: Services, steps: Steps, warnings: string[]): Promise<boolean> {
  if (!(await endpointActive(s))) return false;
  const r = await steps.run('pause write endpoint', () => pauseEndpoint(s), (x) => x.line);
  if (!r.ok) warnings.push(r.line);
  return true;
}

/** After the new primary accepted a write (or a rejoin): rewrite the target, RELOAD, RESUME. */
export async function repointWriteEndpoint(s: Services, steps: Steps, warnings: string[], primary: NodeConfig): Promise<void> {
  if (!(await endpointActive(s))) return;
  const r = await steps.run('repoint write endpoint', () => repointEndpoint(s, primary, { resume: true }), (x) => x.line);
  if (!r.ok) warnings.push(r.line);
}

/** At the end of the operation: the read endpoint's pool of the new roles, without waiting for the monitor. */
export async function updateReadEndpoint(s: Services, steps: Steps, warnings: string[]): Promise<void> {
  if (!(await readEndpointActive(s))) return;
  const r = await steps.run('update read endpoint', () => updateReadPool(s), (x) => x.line, (x) => x.ok);
  if (!r.ok) warnings.push(r.line);
}

/** An aborted switchover must not leave clients held: RESUME (the endpoint still points at the old primary). */
export async function releaseWriteEndpoint(s: Services): Promise<void> {
  if (await endpointActive(s)) await resumeEndpoint(s);
}

/** After /cluster up (and clusterbot start): the chosen sync mode on the primary, and the endpoint started. */
export async function afterClusterUp(s: Services): Promise<string[]> {
  const lines: string[] = [];
  const snap = await s.snapshot();
  const primary = snap.primary ? s.node(snap.primary) : null;
  if (syncInUse(s) && primary) {
    const st = readSyncState(s.config);
    lines.push(await applySync(s, primary, st.mode).then((r) => `Sync replication: ${r.line}`, (e: unknown) => `Sync replication NOT applied: ${errorLine(e)}`));
  }
  if (endpointEnabled(s) && (s.config.RUNTIME === 'local' || (await endpointActive(s)))) {
    lines.push(primary ? (await ensureWriteEndpoint(s, primary)).line : `Write endpoint ${endpointAddress(s)} not started: no writable primary`);
  }
  if (readEndpointEnabled(s) && (s.config.RUNTIME === 'local' || (await readEndpointActive(s)))) lines.push(await ensureReadEndpoint(s, snap));
  return lines;
}
