// The operation journal: one fsync'd JSON document, CLUSTERBOT_HOME/operation-journal.json, that
// says which failover (switchover, rejoin, follow) runs and how far it got. It is written when the
// first step starts, rewritten before every later step (with the end of the one before: one fsync per
// step, not two, each on the failover's path) and deleted when the operation ends. A journal found on
// start whose writer is gone is an operation the bot's own crash cut short (see resume.ts); what is
// left to do is decided on the live cluster, so a step whose end was not on disk yet only reads as cut short.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { Services } from '../../core/context.js';
import { syncDir, writeFileDurably } from '../../core/durable-file.js';
import { errorLine } from '../../errors.js';
import { currentHolder, leftByEarlierProcess } from './lock.js';
import type { OperationKind, OperationRequest } from './request.js';
import type { StepObserver, StepRecord } from './steps.js';

export const journalPath = (home: string) => `${home}/operation-journal.json`;

export interface JournalStep {
  step: string;
  startedAt: string;
  finishedAt?: string;
  ok?: boolean;
  detail?: string;
}

/** What the operation decided once its preflight ran: enough to finish it after a crash. */
export interface OperationFacts {
  target?: string;
  oldPrimary?: string | null;
  fence?: string[];
  followers?: string[];
  force?: boolean;
}

export interface JournalEntry {
  op: OperationKind;
  /** Who confirmed it, as shown to people, and their id for the audit trail. */
  by: string;
  user?: { id: string; platform: string };
  pid: number;
  startedAt: string;
  updatedAt: string;
  facts: OperationFacts;
  steps: JournalStep[];
}

/** Writes one operation's journal. A journal that cannot be written never stops the operation half-way. */
export class OperationJournal implements StepObserver {
  private readonly entry: JournalEntry;
  private warned = false;
  /** Nothing is on disk until the first step starts: a refusal leaves an earlier interrupted journal alone. */
  private written = false;

  constructor(
    private readonly s: Services,
    op: OperationKind,
    req: OperationRequest,
  ) {
    const now = new Date().toISOString();
    this.entry = { op, by: req.by, user: req.user, pid: process.pid, startedAt: now, updatedAt: now, facts: {}, steps: [] };
  }

  /** Goes to disk with the next step's start (before anything acts on these facts). */
  remember(facts: OperationFacts): void {
    Object.assign(this.entry.facts, facts);
  }

  started(step: string): void {
    this.entry.steps.push({ step, startedAt: new Date().toISOString() });
    this.write();
  }

  finished(record: StepRecord): void {
    const open = this.entry.steps.findLast((x) => x.step === record.step && x.finishedAt === undefined);
    if (open) Object.assign(open, { finishedAt: new Date().toISOString(), ok: record.ok, detail: record.detail });
  }

  /** Test only (TEST_PAUSE_AFTER_STEP / TEST_PAUSE_MS, default off): a window between two steps to kill the bot in. */
  async between(step: string): Promise<void> {
    const { TEST_PAUSE_AFTER_STEP: prefix, TEST_PAUSE_MS: ms } = this.s.config;
    if (!prefix || ms <= 0 || !step.startsWith(prefix)) return;
    this.write(); // the step's end on disk, as a crash in this window would find it
    this.s.log.warn({ step, ms }, 'TEST_PAUSE_AFTER_STEP: pausing the operation (test setting)');
    await new Promise((r) => setTimeout(r, ms));
  }

  /** The operation ended (done, failed or refused): nothing is left to finish. */
  end(): void {
    if (!this.written) return;
    try {
      rmSync(journalPath(this.s.config.home), { force: true });
      syncDir(this.s.config.home);
    } catch (err) {
      this.s.log.error({ err: errorLine(err) }, 'could not delete the operation journal');
    }
  }

  private write(): void {
    this.written = true;
    this.entry.updatedAt = new Date().toISOString();
    try {
      writeFileDurably(journalPath(this.s.config.home), `${JSON.stringify(this.entry, null, 2)}\n`);
    } catch (err) {
      if (!this.warned) this.s.log.error({ err: errorLine(err) }, 'could not write the operation journal: a crash now would not be found again on start');
      this.warned = true;
    }
  }
}

/** The journal a previous run left, when its writer is gone (a live writer is still running it). */
export function readUnfinishedJournal(home: string): JournalEntry | null {
  const file = journalPath(home);
  if (!existsSync(file)) return null;
  const entry = JSON.parse(readFileSync(file, 'utf8')) as JournalEntry;
  const holder = currentHolder(home);
  if (holder && holder.pid === entry.pid) return null;
  // Written by this very process (not a predecessor with the same pid): its operation is running.
  if (entry.pid === process.pid && !leftByEarlierProcess(entry.pid, entry.startedAt)) return null;
  return entry;
}

/** Delete a journal whose operation needs nothing more (the cluster was found settled). */
export function discardJournal(home: string): void {
  rmSync(journalPath(home), { force: true });
}

/** Which nodes the journal says were fenced, whether the promotion finished, what ran last. */
export function journalProgress(e: JournalEntry): { fenced: string[]; promoted: boolean; lastDone: JournalStep | null; cutShort: JournalStep | null } {
  const done = e.steps.filter((x) => x.finishedAt !== undefined && x.ok);
  return {
    fenced: done.filter((x) => x.step.startsWith('fence ')).map((x) => x.step.slice('fence '.length)),
    promoted: done.some((x) => x.step.startsWith('promote ')),
    lastDone: done.at(-1) ?? null,
    cutShort: e.steps.find((x) => x.finishedAt === undefined) ?? null,
  };
}
