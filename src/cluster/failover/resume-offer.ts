// On start: a failover the bot's own crash cut short is posted to the alerts channel — what it had
// reached, what the cluster is now, and a Confirm that finishes it (nothing is promoted before).
import type { Notifier } from '../../chat/notifier.js';
import type { Reply, Table } from '../../chat/reply.js';
import { discardJournal, journalProgress, readUnfinishedJournal, type JournalEntry } from './journal.js';
import { clusterStateLine, operationName, remainingWork, resumeFailover, type Remaining } from './resume.js';
import type { ClusterSnapshot } from '../inspect.js';
import { askConfirmation } from '../../core/confirm.js';
import type { AppServices, CommandContext } from '../../core/command.js';
import { errorLine } from '../../errors.js';
import { runWithProgress } from '../../present/failover-card.js';

/** The card: the interruption and the cluster's state, with a Confirm when something is left to finish. */
export function interruptedOperationCard(ctx: CommandContext, e: JournalEntry, snap: ClusterSnapshot): Reply {
  const { lastDone, cutShort } = journalProgress(e);
  const left = remainingWork(e, snap);
  const headline = `${operationName(e)} was interrupted after: ${lastDone?.step ?? 'nothing (no step had finished)'}; ${clusterStateLine(e, snap)}.`;
  const when = `The bot stopped (pid ${e.pid} is gone) during the ${e.op} ${e.by} confirmed at ${e.startedAt.slice(11, 19)} UTC${cutShort ? `; the step it had started and not finished: ${cutShort.step}` : ''}.`;
  const journal: Table = {
    title: 'Journal',
    columns: ['', 'step', 'result'],
    rows: e.steps.map((x) => [x.finishedAt === undefined ? '…' : x.ok ? '✓' : '✗', x.step, x.finishedAt === undefined ? 'cut short by the restart' : (x.detail ?? '')]),
  };
  const data = { interrupted: e, remaining: left };
  if (left.kind === 'none') {
    return {
      title: `${operationName(e)}: interrupted by a bot restart — ${snap.writable.length === 1 ? `${snap.writable[0]} is the primary` : 'no single writable primary'}`,
      severity: snap.writable.length === 1 ? 'warn' : 'crit',
      text: [headline, when, `Nothing is finished automatically: ${left.line}.`].join('\n'),
      tables: [journal],
      data,
    };
  }
  const card = askConfirmation(ctx, {
    command: 'failover',
    summary: `finish the failover to ${left.target}`,
    confirmLabel: left.kind === 'promote' ? `Finish failover: promote ${left.target}` : `Finish failover: ${left.followers.length ? `re-point ${left.followers.join(', ')}` : `fence ${left.fence.join(', ')}`}`,
    level: 'admin',
    text: [headline, when, plan(left), `Cancel (or letting it expire) changes nothing; /cluster status shows the cluster${left.kind === 'promote' ? `, /cluster failover ${left.target} starts a new failover` : ''}.`].join('\n'),
    fields: [{ label: 'Left to do', value: plan(left) }],
    data,
    run: (c) => runWithProgress(c, 'Failover (resumed)', (hooks) => resumeFailover(c.services, e, hooks)),
  });
  return {
    ...card,
    title: left.kind === 'promote' ? `${operationName(e)} interrupted — no node is writable: confirm to finish it` : `${operationName(e)} interrupted — ${left.target} is the primary: confirm to finish re-pointing`,
    severity: left.kind === 'promote' ? 'crit' : 'warn',
    tables: [journal],
  };
}

function plan(left: Exclude<Remaining, { kind: 'none' }>): string {
  const rest = left.followers.length ? `re-point ${left.followers.join(', ')} at ${left.target}` : 'no replica to re-point';
  const fence = left.fence.length ? `fence ${left.fence.join(', ')} again (stopped if running), ` : '';
  if (left.kind === 'repoint') return `${left.target} was promoted before the interruption. Confirm finishes the rest: ${fence}prove a write on ${left.target}, move the write endpoint, ${rest}.`;
  return `Nothing is promoted until someone confirms. Confirm finishes it: ${fence}promote ${left.target}, prove a write, move the write endpoint, ${rest}.`;
}

/** One line for `clusterbot run` (which cannot hold a card): an interrupted operation is waiting, and where it is offered. */
export function interruptedOperationNote(home: string): string | null {
  try {
    const e = readUnfinishedJournal(home);
    if (!e) return null;
    return `${operationName(e)} was interrupted after: ${journalProgress(e).lastDone?.step ?? 'nothing (no step had finished)'} (the bot that ran it is gone) — \`clusterbot start\` posts the cluster's state and offers to finish it; /cluster status shows the cluster now`;
  } catch (err) {
    return `the operation journal cannot be read (${errorLine(err)}) — an operation may have been interrupted; check /cluster status`;
  }
}

/** On start (native backend): post an interrupted operation to the alerts channel; never silent. */
export async function announceInterruptedOperation(app: { services: AppServices; notifier: Notifier }): Promise<void> {
  const s = app.services;
  let e: JournalEntry | null;
  try {
    e = readUnfinishedJournal(s.config.home);
  } catch (err) {
    await app.notifier.post('alerts', { title: 'Operation journal unreadable', severity: 'crit', text: `A failover or switchover may have been interrupted by a bot restart, but its journal cannot be read: ${errorLine(err)} — check /cluster status and /cluster history.` });
    return;
  }
  if (!e) return;
  const snap = await s.snapshot();
  const reply = interruptedOperationCard(systemContext(s, e), e, snap);
  // Reported once; only an operation that is left to finish keeps its journal (for the next start too).
  if (!reply.buttons) discardJournal(s.config.home);
  s.audit.record({ kind: 'event', user: 'clusterbot', platform: 'system', command: e.op, outcome: 'interrupted by a bot restart', detail: { facts: e.facts, steps: e.steps.map((x) => x.step), remaining: remainingWork(e, snap) } });
  await app.notifier.post('alerts', reply);
}

/**
 * The bot asks on behalf of whoever confirmed the interrupted failover: under REQUIRE_SECOND_APPROVER
 * that person cannot finish it alone, exactly as with a new failover.
 */
function systemContext(s: AppServices, e: JournalEntry): CommandContext {
  return {
    services: s,
    backend: s.backend,
    user: { id: e.user?.id ?? e.by, display: `clusterbot on restart, for ${e.by}`, platform: 'system', level: 'admin' },
    surface: { platform: 'system', channel: 'alerts' },
    progress: async () => undefined,
  };
}
