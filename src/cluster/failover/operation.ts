// What failover, switchover, rejoin and follow share: the request, the result, the refusal shape.
import type { Services } from '../../core/context.js';
import { errorLine, isUserError, UserError } from '../../errors.js';
import type { ClusterSnapshot } from '../inspect.js';
import { OperationJournal } from './journal.js';
import { withOperationLock } from './lock.js';
import { Steps, type StepRecord } from './steps.js';
import { outcomeOf } from './outcome.js';

export type { OperationKind, OperationRequest } from './request.js';
import type { OperationKind, OperationRequest } from './request.js';

export { outcomeOf } from './outcome.js';

export interface OperationResult {
  op: OperationKind;
  ok: boolean;
  /** The node that accepts writes afterwards (null when none does). */
  newPrimary: string | null;
  node: string;
  steps: StepRecord[];
  totalMs: number;
  warnings: string[];
  error: string | null;
  snapshot: ClusterSnapshot;
}

function splitBrainWarning(writable: string[], intended: string | null): string {
  const others = writable.filter((n) => n !== intended);
  return `SPLIT BRAIN: ${writable.join(' and ')} all accept writes — a node was started outside the bot; stop ${others.join(', ')} now (/cluster stop ${others[0]}), then /cluster rejoin ${others[0]}`;
}

/** A preflight reason ("what — next step") as a UserError. */
export function refusal(reason: string): UserError {
  const i = reason.indexOf(' — ');
  return i < 0 ? new UserError(reason, '', 'precondition') : new UserError(reason.slice(0, i), reason.slice(i + 3), 'precondition');
}

/**
 * Run one operation under the cross-process lock, time its steps and audit the outcome. `body`
 * returns the node it acted on and the new primary; a throw after the lock is a failed operation
 * (reported with the steps so far), a UserError is a refusal.
 */
export async function runOperation(
  s: Services,
  op: OperationKind,
  req: OperationRequest,
  body: (steps: Steps, warnings: string[]) => Promise<{ node: string; newPrimary: string | null }>,
): Promise<OperationResult> {
  return withOperationLock(s.config.home, op, req.by, async () => {
    // On disk before each step starts: a crash from the first step on is found again on start.
    const journal = new OperationJournal(s, op, req);
    const steps = new Steps(op, s.log, req.onStep, journal);
    const warnings: string[] = [];
    let outcome: { node: string; newPrimary: string | null } = { node: '', newPrimary: null };
    let error: string | null = null;
    try {
      outcome = await body(steps, warnings);
    } catch (e) {
      if (isUserError(e) && steps.done.length === 0) throw e;
      error = errorLine(e);
      s.log.error({ op, err: e }, `${op} failed`);
    } finally {
      journal.end();
    }
    const snapshot = await s.snapshot();
    // Started outside the bot (pg_ctl by hand on a node without standby.signal): never report that as done.
    if (snapshot.writable.length > 1) warnings.push(splitBrainWarning(snapshot.writable, outcome.newPrimary));
    const result: OperationResult = {
      op,
      ok: error === null,
      newPrimary: snapshot.primary,
      node: outcome.node,
      steps: steps.done,
      totalMs: steps.totalMs,
      warnings,
      error,
      snapshot,
    };
    s.audit.record({
      kind: 'event',
      user: req.user?.id ?? req.by,
      platform: req.user?.platform ?? 'system',
      command: op,
      node: outcome.node || undefined,
      outcome: outcomeOf({ ok: error === null, warnings }),
      detail: { steps: steps.done.map(({ step, ms, ok }) => ({ step, ms, ok })), newPrimary: snapshot.primary, warnings, error },
      ms: steps.totalMs,
    });
    await s.audit.flush();
    return result;
  });
}
