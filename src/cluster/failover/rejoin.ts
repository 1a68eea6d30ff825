// Rejoin: an old (fenced) primary becomes a replica of the current primary — pg_rewind, else a
// fresh clone. Follow: a running replica is pointed at the current primary.
import type { Services } from '../../core/context.js';
import { nodeIn } from '../wait.js';
import { refusal, runOperation, type OperationRequest, type OperationResult } from './operation.js';
import { timelineSwitch } from './promote.js';
import { divergence, followPrimary, rewindOrReclone, waitStreaming } from './repoint.js';
import { repointWriteEndpoint, syncAfterPromotion, updateReadEndpoint } from '../ha-hooks.js';

async function currentPrimary(s: Services, name: string): Promise<string> {
  const snap = await s.snapshot();
  if (snap.writable.length > 1) throw refusal(`${snap.writable.join(' and ')} all accept writes — stop all but one first`);
  if (!snap.primary) throw refusal(`there is no writable primary for ${name} to follow — run /cluster failover first`);
  if (snap.primary === name) throw refusal(`${name} is the writable primary — there is nothing to rejoin or follow; see /cluster status`);
  return snap.primary;
}

export function runRejoin(s: Services, name: string, req: OperationRequest): Promise<OperationResult> {
  return runOperation(s, 'rejoin', req, async (steps, warnings) => {
    steps.remember({ target: name });
    const primaryName = await currentPrimary(s, name);
    const node = s.node(name);
    const primary = s.node(primaryName);
    const before = nodeIn(await s.snapshot(), name);
    if (before.up && before.role === 'replica' && before.streaming && before.upstream === primaryName && !before.fenced) {
      await steps.run('check', async () => `${name} already streams from ${primaryName}`, (l) => l);
      return { node: name, newPrimary: primaryName };
    }
    const how = await steps.run(`rewind ${name}`, () => rewindOrReclone(s, node, primary, req.onNote ?? (async () => undefined)), (l) => l);
    const w = await steps.run(`${name} streaming`, () => waitStreaming(s, node, primary, `/cluster rejoin ${name}`), (x) => x.line, (x) => x.ok);
    if (!w.ok) {
      warnings.push(`${w.line}; ${name} stays fenced`);
      throw new Error(`${name} was ${how.split(' (')[0]} but is not streaming yet — see /cluster logs ${name}`);
    }
    await steps.run(`unfence ${name}`, async () => s.runtime.unfence(node), () => `${name} may serve reads again`);
    await syncAfterPromotion(s, steps, warnings, primary);
    await repointWriteEndpoint(s, steps, warnings, primary);
    await updateReadEndpoint(s, steps, warnings);
    return { node: name, newPrimary: primaryName };
  });
}

export function runFollow(s: Services, name: string, req: OperationRequest): Promise<OperationResult> {
  return runOperation(s, 'follow', req, async (steps, warnings) => {
    steps.remember({ target: name });
    const primaryName = await currentPrimary(s, name);
    const node = s.node(name);
    const primary = s.node(primaryName);
    const n = nodeIn(await s.snapshot(), name);
    if (n.fenced) throw refusal(`${name} is fenced (a former primary) — use /cluster rejoin ${name}`);
    if (!n.up) throw refusal(`${name} is down (${n.error ?? 'not answering'}) — start it first with /cluster start ${name}`);
    if (n.role !== 'replica') throw refusal(`${name} is not a replica — use /cluster rejoin ${name}`);
    const sw = await timelineSwitch(s, primary).catch(() => null);
    const ahead = sw ? await divergence(s, node, sw) : 0;
    if (ahead > 0) throw refusal(`${name} holds ${ahead} bytes of WAL past ${primaryName}'s timeline switch point — use /cluster rejoin ${name} (pg_rewind)`);
    await steps.run(`point ${name} at ${primaryName}`, () => followPrimary(s, node, primary), () => 'primary_conninfo changed and reloaded');
    const w = await steps.run(`${name} streaming`, () => waitStreaming(s, node, primary), (x) => x.line, (x) => x.ok);
    if (!w.ok) warnings.push(w.line);
    return { node: name, newPrimary: primaryName };
  });
}
