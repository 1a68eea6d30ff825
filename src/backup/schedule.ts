// Scheduled backups with node-cron: full, incremental (pgBackRest incr) and retention runs. Every run is verified
// and reported (success or failure) through the `report` callback; nothing here knows about chat.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../core/logger.js';
import { errorLine } from '../errors.js';
import type { BackupSet } from './pgbackrest/info.js';
import type { PrunePlan } from './retention.js';
import type { RepoCopy } from './backup-run.js';
import type { BackupService } from './service.js';
import type { VerifyResult } from './verify-backup.js';

export type ScheduledKind = 'full' | 'incremental' | 'prune';

export type ScheduledRun =
  | { kind: ScheduledKind; ok: true; entry?: BackupSet | null; expired?: string[]; verify?: VerifyResult; copies?: RepoCopy[]; prune?: PrunePlan; nextRun: Date | null; ms: number }
  | { kind: ScheduledKind; ok: false; error: string; nextRun: Date | null; ms: number };

export type Schedules = Record<ScheduledKind, string>;

export class BackupScheduler {
  private readonly tasks = new Map<ScheduledKind, ScheduledTask>();
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly svc: BackupService,
    private readonly report: (run: ScheduledRun) => Promise<void>,
    private readonly log: Logger,
  ) {}

  get running(): boolean {
    return this.tasks.size > 0;
  }

  start(schedules: Schedules): void {
    if (this.running) return;
    for (const kind of ['full', 'incremental', 'prune'] as const) {
      const task = cron.schedule(schedules[kind], () => this.track(this.fire(kind)), { name: `backup-${kind}`, noOverlap: true });
      this.tasks.set(kind, task);
    }
  }

  nextRun(kind: ScheduledKind): Date | null {
    return this.tasks.get(kind)?.getNextRun() ?? null;
  }

  private async track(run: Promise<void>): Promise<void> {
    this.inflight.add(run);
    try {
      await run;
    } finally {
      this.inflight.delete(run);
    }
  }

  private async fire(kind: ScheduledKind): Promise<void> {
    try {
      await this.report(await this.runOnce(kind));
    } catch (err) {
      this.log.error({ err, kind }, 'scheduled backup report failed');
    }
  }

  /** One scheduled run: take (or prune), verify, and describe the outcome; never throws. */
  async runOnce(kind: ScheduledKind): Promise<ScheduledRun> {
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    try {
      if (kind === 'prune') {
        const prune = await this.svc.prune();
        return { kind, ok: true, prune, nextRun: this.nextRun(kind), ms: ms() };
      }
      const { copies, expired } = await this.svc.take(kind === 'full' ? 'full' : 'incr');
      const verified = await this.svc.verifyCopies(copies);
      const first = verified.find((c) => c.set)!;
      return { kind, ok: true, entry: first.set, expired, verify: first.verify, copies: verified, nextRun: this.nextRun(kind), ms: ms() };
    } catch (err) {
      this.log.error({ err, kind }, 'scheduled backup failed');
      return { kind, ok: false, error: errorLine(err), nextRun: this.nextRun(kind), ms: ms() };
    }
  }

  /** No new runs; a run in progress finishes (and reports) first. */
  async stop(): Promise<void> {
    const tasks = [...this.tasks.values()];
    this.tasks.clear();
    for (const t of tasks) await t.destroy();
    await Promise.allSettled([...this.inflight]);
  }
}
