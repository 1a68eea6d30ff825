// Failover: re-check, fence the old primary, promote, prove it with a write, re-point the rest.
import type { NodeConfig } from '../../config.js';
import type { Services } from '../../core/context.js';
import { formatBytes } from '../lsn.js';
import { missedDeadline } from '../../db/deadline.js';
import { refusal, runOperation, type OperationRequest, type OperationResult } from './operation.js';
import { catchUp, type CatchupOutcome } from './catchup.js';
import { fenceNode } from './fence.js';
import { planFailover, type FailoverPlan } from './preflight.js';
import { promoteNode, timelineSwitch, verifyWrite } from './promote.js';
import { repointFollowers } from './followers.js';
import type { Steps } from './steps.js';
import { withConfiguredUpstreams } from './upstream.js';
import { beforePromotion, repointWriteEndpoint, startSyncPreparation, syncAfterPromotion, updateReadEndpoint } from '../ha-hooks.js';
import { readSyncState } from '../sync/state.js';
import { syncTarget, syncVerdict, type SyncVerdict } from '../sync/verdict.js';

export interface FailoverRequest extends OperationRequest {
  target?: string;
  force: boolean;
}

/**
 * The preflight on live state: a plan for the card, or a refusal reason. A refusal while a failover
 * candidate only missed the probe round's deadline (a busy machine, a cold connection in a one-shot
 * CLI) is decided once more on a second round: a hung node misses that one too.
 */
export async function preflightFailover(s: Services, target: string | undefined, force: boolean): Promise<(FailoverPlan & { sync: SyncVerdict }) | string> {
  const decide = async () => {
    const snap = withConfiguredUpstreams(await s.snapshot());
    // With synchronous replication in force, only a replica that was synchronous is chosen.
    const sync = readSyncState(s.config);
    const plan = planFailover(snap, s.config, target ?? syncTarget(sync, snap), force);
    return { snap, plan: typeof plan === 'string' ? plan : { ...plan, sync: syncVerdict(sync, snap, plan) } };
  };
  const first = await decide();
  const late = first.snap.nodes.some((n) => n.failover && !n.fenced && n.running !== false && missedDeadline(n.error));
  return typeof first.plan === 'string' && late ? (await decide()).plan : first.plan;
}

export interface FailoverResult extends OperationResult {
  /** Set when the target did not catch up in time: nothing was fenced or promoted, the person is asked again. */
  catchupShortfall: CatchupOutcome | null;
}

export async function runFailover(s: Services, req: FailoverRequest): Promise<FailoverResult> {
  let shortfall: CatchupOutcome | null = null;
  const result = await runOperation(s, 'failover', req, async (steps, warnings) => {
    // The card may be minutes old: decide again on what is true now.
    const plan = await preflightFailover(s, req.target, req.force);
    if (typeof plan === 'string') throw refusal(plan);
    await steps.run('preflight', async () => plan, (p) => `target ${p.target}, lag ${formatBytes(p.lagBytes)}, at risk ${p.riskIsFloor ? '≥ ' : ''}${p.riskBytes} bytes`);
    steps.remember({ target: plan.target, oldPrimary: plan.oldPrimary, fence: plan.fence, followers: plan.followers, force: req.force });
    const target = s.node(plan.target);
    if (plan.catchup) {
      const from = plan.catchup.from;
      const c = await steps.run(`catch up from ${from}`, () => catchUp(s, target, s.node(from), s.config.FAILOVER_CATCHUP_SECONDS * 1000, req.onProgress), (x) => x.line, (x) => x.ok);
      if (!c.ok) {
        shortfall = c;
        throw new Error(`not promoted: ${c.line}`);
      }
    }
    const syncPrep = startSyncPreparation(s, target, 'the fence');
    for (const name of plan.fence) {
      await steps.run(`fence ${name}`, () => fenceNode(s, s.node(name), `failover to ${plan.target} confirmed by ${req.by}`), (l) => l);
    }
    await beforePromotion(s, steps, target, syncPrep);
    await steps.run(`promote ${plan.target}`, () => promoteNode(s, target), (l) => l);
    await completePromotion(s, steps, warnings, target, plan.followers, req);
    return { node: plan.target, newPrimary: plan.target };
  });
  return { ...result, catchupShortfall: shortfall };
}

/** After pg_promote: prove a write, then the endpoint, the timeline and the other replicas (also what a resumed failover finishes). */
export async function completePromotion(s: Services, steps: Steps, warnings: string[], target: NodeConfig, followers: string[], req: OperationRequest): Promise<void> {
  await steps.run('verify write', () => verifyWrite(s, target, 'failover', req.by), (l) => l);
  await syncAfterPromotion(s, steps, [], target); // strict: commits wait from here on; on: settled below
  await repointWriteEndpoint(s, steps, warnings, target);
  const sw = await steps.run('read new timeline', () => timelineSwitch(s, target), (t) => `timeline ${t.timeline}, switch point ${t.switchLsn}`);
  await repointFollowers(s, steps, warnings, followers, target, sw, req.onNote ?? (async () => undefined));
  await syncAfterPromotion(s, steps, warnings, target);
  await updateReadEndpoint(s, steps, warnings);
}
