// Switchover: the planned, lossless move. Clean shutdown of the primary, proof that the target has
// replayed its shutdown checkpoint, promotion, and the old primary back as a replica.
import type { NodeConfig } from '../../config.js';
import type { Services } from '../../core/context.js';
import { lsnDiff } from '../lsn.js';
import { nodeIn, waitFor } from '../wait.js';
import { refusal, runOperation, type OperationRequest, type OperationResult } from './operation.js';
import { chooseTarget, switchoverLimitation } from './preflight.js';
import { promoteNode, timelineSwitch, verifyWrite } from './promote.js';
import { repointFollowers } from './followers.js';
import { rewindOrReclone, waitStreaming } from './repoint.js';
import { beforePromotion, pauseWriteEndpoint, releaseWriteEndpoint, repointWriteEndpoint, syncAfterPromotion, updateReadEndpoint } from '../ha-hooks.js';

const CHECKPOINT_WAIT_MS = 15_000;

export interface SwitchoverPlan {
  from: string;
  to: string;
  lagBytes: number;
  followers: string[];
}

export async function preflightSwitchover(s: Services, target?: string): Promise<SwitchoverPlan | string> {
  const snap = await s.snapshot();
  const t = chooseTarget(snap, target);
  if (typeof t === 'string') return t;
  const reason = switchoverLimitation(snap, s.config, t);
  if (reason) return reason;
  const from = snap.primary!;
  return { from, to: t.name, lagBytes: t.lagBytes ?? 0, followers: snap.nodes.filter((n) => n.name !== from && n.name !== t.name).map((n) => n.name) };
}

/** "Latest checkpoint location" of a stopped node, and whether it was shut down cleanly. */
async function shutdownCheckpoint(s: Services, node: NodeConfig): Promise<string> {
  const r = await s.runtime.exec(node, 'pg_controldata', []);
  if (r.code !== 0) throw new Error(`pg_controldata failed on ${node.name}: ${r.stderr.trim()}`);
  const state = /Database cluster state:\s*(.+)/.exec(r.stdout)?.[1]?.trim();
  const lsn = /Latest checkpoint location:\s*(\S+)/.exec(r.stdout)?.[1];
  if (state !== 'shut down' || !lsn) throw new Error(`${node.name} did not shut down cleanly (state: ${state ?? 'unknown'})`);
  return lsn;
}

export function runSwitchover(s: Services, req: OperationRequest & { target?: string }): Promise<OperationResult> {
  return runOperation(s, 'switchover', req, async (steps, warnings) => {
    const plan = await preflightSwitchover(s, req.target);
    if (typeof plan === 'string') throw refusal(plan);
    await steps.run('preflight', async () => plan, (p) => `${p.from} → ${p.to}, lag ${p.lagBytes} bytes`);
    steps.remember({ target: plan.to, oldPrimary: plan.from, followers: plan.followers });
    const oldNode = s.node(plan.from);
    const target = s.node(plan.to);
    const paused = await pauseWriteEndpoint(s, steps, warnings);
    try {
      await steps.run(`stop ${plan.from} (clean)`, async () => {
        await s.runtime.stop(oldNode, 'fast');
        await s.pools.reset(oldNode);
        // From here on it may only come back read-only, whatever happens next.
        await s.runtime.fence(oldNode, `switchover to ${plan.to} confirmed by ${req.by}`);
      }, () => `${plan.from} shut down cleanly and fenced`);
      const ckpt = await steps.run('shutdown checkpoint', () => shutdownCheckpoint(s, oldNode), (l) => `${plan.from} shutdown checkpoint at ${l}`);
      const received = await steps.run(`${plan.to} replayed it`, async () => {
        const r = await waitFor(s.snapshot, (snap) => (lsnDiff(nodeIn(snap, plan.to).replayLsn, ckpt) ?? -1) > 0, CHECKPOINT_WAIT_MS, 50);
        return { ok: r.ok, lsn: nodeIn(r.snap, plan.to).replayLsn };
      }, (r) => (r.ok ? `${plan.to} replayed up to ${r.lsn}, past ${ckpt}` : `${plan.to} is at ${r.lsn ?? '?'}, has NOT replayed ${ckpt}`));
      if (!received.ok) {
        // Nothing was promoted: the old primary comes back (it starts read-only as fenced, then is promoted again).
        await steps.run(`restore ${plan.from}`, async () => {
          await s.runtime.unfence(oldNode);
          await s.runtime.start(oldNode);
          return promoteNode(s, oldNode);
        }, (l) => `${l}; switchover aborted`);
        throw new Error(`${plan.to} did not receive ${plan.from}'s shutdown checkpoint within ${CHECKPOINT_WAIT_MS / 1000} s`);
      }
      await beforePromotion(s, steps, target);
      await steps.run(`promote ${plan.to}`, () => promoteNode(s, target), (l) => l);
      await steps.run('verify write', () => verifyWrite(s, target, 'switchover', req.by), (l) => l);
    } catch (e) {
      // Never leave clients held at a paused endpoint.
      if (paused) await releaseWriteEndpoint(s);
      throw e;
    }
    await syncAfterPromotion(s, steps, [], target); // strict: commits wait from here on; on: settled below
    await repointWriteEndpoint(s, steps, warnings, target);
    const sw = await steps.run('read new timeline', () => timelineSwitch(s, target), (t) => `timeline ${t.timeline}, switch point ${t.switchLsn}`);
    const back = await steps.run(`${plan.from} → replica`, async () => {
      await rewindOrReclone(s, oldNode, target, req.onNote ?? (async () => undefined));
      const w = await waitStreaming(s, oldNode, target, `/cluster rejoin ${plan.from}`);
      if (w.ok) await s.runtime.unfence(oldNode);
      return w;
    }, (w) => w.line, (w) => w.ok);
    if (!back.ok) warnings.push(`${back.line} (${plan.from} stays fenced until then)`);
    await repointFollowers(s, steps, warnings, plan.followers, target, sw, req.onNote ?? (async () => undefined));
    await syncAfterPromotion(s, steps, warnings, target);
    await updateReadEndpoint(s, steps, warnings);
    return { node: plan.to, newPrimary: plan.to };
  });
}
