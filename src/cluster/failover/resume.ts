// A failover the bot's own crash cut short (an operation journal left by a dead process): what the
// cluster is now, what is left of the operation, and finishing it — only ever after a new Confirm.
import type { Services } from '../../core/context.js';
import type { ClusterSnapshot } from '../inspect.js';
import { beforePromotion } from '../ha-hooks.js';
import { completePromotion } from './failover.js';
import { fenceNode } from './fence.js';
import { journalProgress, type JournalEntry } from './journal.js';
import { refusal, runOperation, type OperationRequest, type OperationResult } from './operation.js';
import { promoteNode } from './promote.js';

export type Remaining =
  /** No node is writable: fence the old primary again (idempotent), promote the target, re-point the rest. */
  | { kind: 'promote'; target: string; fence: string[]; followers: string[] }
  /** The target was promoted before the crash: the replicas and the endpoint are left (and the old primary, if it runs again). */
  | { kind: 'repoint'; target: string; fence: string[]; followers: string[] }
  | { kind: 'none'; line: string };

/** "failover standby ← primary", as far as the journal knows it. */
export function operationName(e: JournalEntry): string {
  const { target, oldPrimary } = e.facts;
  if (!target) return e.op === 'failover' ? 'failover (interrupted before it chose a target)' : e.op;
  return `${e.op} ${target}${oldPrimary ? ` ← ${oldPrimary}` : ''}`;
}

/** One sentence on the nodes the operation was moving away from and on who accepts writes now. */
export function clusterStateLine(e: JournalEntry, snap: ClusterSnapshot): string {
  const olds = e.facts.fence?.length ? e.facts.fence : e.facts.oldPrimary ? [e.facts.oldPrimary] : [];
  const parts = olds.map((name) => {
    const n = snap.nodes.find((x) => x.name === name);
    if (!n) return `${name} is not in CLUSTER_NODES any more`;
    const running = snap.writable.includes(name) ? 'accepts writes' : n.up ? 'running read-only' : n.running ? `running but not answering (${n.error ?? 'no answer'})` : 'stopped';
    return `${name} is ${n.fenced ? 'fenced' : 'NOT fenced'} and ${running}`;
  });
  const w = snap.writable;
  parts.push(w.length === 0 ? 'no node is writable' : w.length === 1 ? `${w[0]} is the writable primary` : `${w.join(' and ')} ALL accept writes (split brain)`);
  return parts.join(', ');
}

/** What is left to do, decided on the live cluster (never on the journal alone). */
export function remainingWork(e: JournalEntry, snap: ClusterSnapshot): Remaining {
  const { target } = e.facts;
  const { promoted } = journalProgress(e);
  if (e.op !== 'failover' || !target) {
    return { kind: 'none', line: snap.writable.length === 1 ? 'nothing to finish' : 'the bot does not finish this kind of operation by itself — see /cluster status' };
  }
  if (snap.writable.length > 1) return { kind: 'none', line: `${snap.writable.join(' and ')} all accept writes — stop all but one by hand (/cluster stop <node>), then check /cluster status` };
  const primary = snap.writable[0];
  const followers = (e.facts.followers ?? []).filter((name) => {
    const n = snap.nodes.find((x) => x.name === name);
    return n && !(n.up && n.role === 'replica' && n.streaming && n.upstream === target);
  });
  const fence = e.facts.fence ?? (e.facts.oldPrimary ? [e.facts.oldPrimary] : []);
  if (primary === target) {
    // A fenced old primary that runs again (read-only: started on this start) is stopped as the failover left it.
    const again = fence.filter((name) => snap.nodes.some((n) => n.name === name && (!n.fenced || n.running !== false)));
    if (!followers.length && !again.length) return { kind: 'none', line: `${target} is the primary and every replica streams from it — nothing left to finish` };
    return { kind: 'repoint', target, fence: again, followers };
  }
  if (primary) {
    return { kind: 'none', line: `${primary} accepts writes and ${target} was ${promoted ? 'promoted but is not writable now' : 'not promoted'} — nothing is finished automatically; run /cluster failover ${target} if it is still needed` };
  }
  const t = snap.nodes.find((x) => x.name === target);
  if (!t || !t.up || t.role !== 'replica') {
    return { kind: 'none', line: `${target} cannot be promoted now (${t ? (t.up ? `role ${t.role}` : `down: ${t.error ?? 'not answering'}`) : 'not in CLUSTER_NODES'}) — start it (/cluster start ${target}), then /cluster failover ${target}` };
  }
  return { kind: 'promote', target, fence, followers };
}

/** Finish the interrupted failover under the operation lock, re-deciding on live state first. */
export async function resumeFailover(s: Services, e: JournalEntry, req: OperationRequest): Promise<OperationResult> {
  return runOperation(s, 'failover', req, async (steps, warnings) => {
    const left = remainingWork(e, await s.snapshot());
    if (left.kind === 'none') throw refusal(left.line);
    steps.remember({ ...e.facts });
    const target = s.node(left.target);
    for (const name of left.fence) {
      await steps.run(`fence ${name}`, () => fenceNode(s, s.node(name), `resumed failover to ${left.target} confirmed by ${req.by}`), (l) => l);
    }
    if (left.kind === 'promote') {
      await beforePromotion(s, steps, target);
      await steps.run(`promote ${left.target}`, () => promoteNode(s, target), (l) => l);
    }
    await completePromotion(s, steps, warnings, target, left.followers, req);
    return { node: left.target, newPrimary: left.target };
  });
}
