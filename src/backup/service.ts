// The backup module's front door: one operation at a time, the catalog kept in step, every
// backup recorded in the cluster's own table, and the view other modules read (last, overdue).
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import cron from 'node-cron';
import type { BackupsView, Services } from '../core/context.js';
import { UserError } from '../errors.js';
import { Catalog, ofLiveCluster, type BackupEntry, type BackupKind } from './catalog.js';
import { takeFullBackup, type BackupDeps, type FullProgress } from './full.js';
import { archiveListing, switchAndArchive, takeIncremental } from './incremental.js';
import { chooseRestoreBackup, parseTargetTime, restoreCheck, type RestoreCheckResult } from './restore-check.js';
import { applyPrune, planPrune, type PrunePlan } from './retention.js';
import { verifyBackup, type VerifyResult } from './verify.js';
import { backupToolsFor, type BackupTools } from './tools.js';
import { summary } from './summary.js';

export class BackupService implements BackupsView {
  readonly catalog: Catalog;
  private busy: string | null = null;
  /** Overdue is measured from here when there has never been a backup. */
  private readonly since = Date.now();

  constructor(
    private readonly s: Services,
    private readonly tools: BackupTools = backupToolsFor(s.config, s.runtime),
  ) {
    this.catalog = new Catalog(`${s.config.backupDir}/catalog.json`);
  }

  private get deps(): BackupDeps {
    const s = this.s;
    return { config: s.config, tools: this.tools, pools: s.pools, snapshot: () => s.snapshot(), node: (n) => s.node(n) };
  }

  /**
   * One backup operation at a time, across processes too (the bot's schedule and a one-shot
   * `clusterbot run`): a lock file holding our pid. A second one is refused, not queued.
   */
  private async exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy) throw new UserError(`${this.busy} is already in progress`, 'wait for it to finish, then try again', 'busy');
    this.busy = what;
    let locked = false;
    try {
      await this.tools.prepare();
      takeLock(this.lockFile, what);
      locked = true;
      return await fn();
    } finally {
      if (locked) rmSync(this.lockFile, { force: true });
      this.busy = null;
    }
  }

  /** The backup operation running now (in this process or another), as "a full backup", or null. */
  runningNow(): string | null {
    if (this.busy) return this.busy;
    const holder = readHolder(this.lockFile);
    return holder && pidAlive(holder.pid) ? holder.what : null;
  }

  /** Run `fn` while no backup operation runs and none can start (a reset replaces what they read). */
  whileIdle<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return this.exclusive(what, fn);
  }

  private get lockFile(): string {
    return `${this.s.config.backupDir}/.backup.lock`;
  }

  full(onProgress: (p: FullProgress) => void = () => undefined): Promise<BackupEntry> {
    return this.exclusive('a full backup', async () => {
      const entry = await takeFullBackup(this.deps, onProgress);
      this.catalog.add(entry);
      await this.recordInCluster(entry);
      return entry;
    });
  }

  /** null: nothing was archived since the previous backup. */
  incremental(): Promise<BackupEntry | null> {
    return this.exclusive('an incremental backup', async () => {
      // WAL continues the newest backup of this cluster; one taken before a reset has its own archive.
      const entry = await takeIncremental(this.deps, ofLiveCluster(this.catalog.list()).at(-1));
      if (entry) {
        this.catalog.add(entry);
        await this.recordInCluster(entry);
      }
      return entry;
    });
  }

  /** The entry for an id, or the newest one; an unknown id is a one-line UserError. */
  find(id?: string): BackupEntry {
    const all = this.catalog.list();
    if (!all.length) throw new UserError('there are no backups yet', 'take one: /cluster backup full', 'not_found');
    if (id === undefined) return all[all.length - 1];
    const e = all.find((x) => x.id === id);
    if (!e) throw new UserError(`unknown backup id "${id.slice(0, 40)}"`, `/cluster backups lists them (newest: ${all[all.length - 1].id})`, 'not_found');
    return e;
  }

  verify(id: string | undefined, onStep: (s: string) => void = () => undefined): Promise<{ entry: BackupEntry; result: VerifyResult }> {
    const target = this.find(id);
    return this.exclusive(`verifying ${target.id}`, async () => {
      const result = await verifyBackup(this.deps, target, onStep);
      const entry = this.catalog.update(target.id, {
        verified: result.ok,
        verifiedAt: new Date().toISOString(),
        verifyError: result.ok ? null : result.problems.join('; '),
      });
      return { entry, result };
    });
  }

  restoreCheck(id: string | undefined, time: string | undefined, onStep: (s: string) => void = () => undefined): Promise<{ entry: BackupEntry; result: RestoreCheckResult }> {
    const target = time === undefined ? null : parseTargetTime(time);
    const entry = chooseRestoreBackup(this.catalog.list(), id, target);
    return this.exclusive(`a restore check of ${entry.id}`, async () => {
      // The target must be covered by archived WAL: close and archive the current segment first.
      if (target) {
        onStep('archiving the current WAL segment');
        await switchAndArchive(this.deps);
      }
      return { entry, result: await restoreCheck(this.deps, entry, target, onStep) };
    });
  }

  planPrune(now = new Date()): PrunePlan {
    const dir = this.s.config.walArchiveDir;
    const archive = archiveListing(dir).map((name) => ({ name, sizeBytes: statSync(`${dir}/${name}`).size }));
    // Backups from before a reset are outside retention: only /cluster reset purge-backups deletes them.
    return planPrune(ofLiveCluster(this.catalog.list()), archive, this.s.config.BACKUP_RETENTION_DAYS, now);
  }

  /** Re-plan at the moment of deletion and delete only what is in both plans (what was shown and still may go). */
  prune(shown?: PrunePlan): Promise<PrunePlan> {
    return this.exclusive('pruning backups', async () => {
      const now = this.planPrune();
      const plan = shown
        ? { ...now, remove: now.remove.filter((e) => shown.remove.some((x) => x.id === e.id)), wal: now.wal.filter((w) => shown.wal.includes(w)) }
        : now;
      applyPrune(plan, this.s.config.walArchiveDir);
      this.catalog.remove(plan.remove.map((e) => e.id));
      return plan;
    });
  }

  /** Total bytes on disk: backups plus the WAL archive. */
  totals(): { backupBytes: number; archiveBytes: number; archiveFiles: number } {
    const dir = this.s.config.walArchiveDir;
    const names = archiveListing(dir);
    return {
      backupBytes: this.catalog.list().reduce((s, e) => s + e.sizeBytes, 0),
      archiveBytes: names.reduce((s, n) => s + statSync(`${dir}/${n}`).size, 0),
      archiveFiles: names.length,
    };
  }

  async last() {
    const e = this.catalog.list().at(-1);
    return e ? { id: e.id, kind: e.kind, at: e.finishedAt, sizeBytes: e.sizeBytes, durationMs: e.durationMs, verified: e.verified } : null;
  }

  /** A backup is overdue when more than two scheduled intervals passed without one (one missed run). */
  async overdue(now = Date.now()): Promise<string | null> {
    const { config } = this.s;
    if (!config.BACKUP_SCHEDULES) return null;
    const all = this.catalog.list();
    const checks: Array<[BackupKind, string, BackupEntry | undefined]> = [
      ['full', config.BACKUP_FULL_CRON, all.filter((e) => e.kind === 'full').at(-1)],
      ['incremental', config.BACKUP_INCREMENTAL_CRON, all.at(-1)],
    ];
    for (const [kind, expr, last] of checks) {
      const interval = cronIntervalMs(expr);
      const ref = last ? Date.parse(last.finishedAt) : this.since;
      if (now - ref > 2 * interval) {
        const hours = ((now - ref) / 3_600_000).toFixed(1);
        return last
          ? `${kind} backup overdue: the last one (${last.id}) finished ${hours} h ago; "${expr}" expects one every ${(interval / 3_600_000).toFixed(1)} h`
          : `${kind} backup overdue: none in the ${hours} h since the bot started; "${expr}" expects one every ${(interval / 3_600_000).toFixed(1)} h`;
      }
    }
    return null;
  }

  /** Write the backup into the cluster's own event table (best effort: the catalog is the record). */
  private async recordInCluster(e: BackupEntry): Promise<void> {
    try {
      const snap = await this.s.snapshot();
      if (!snap.primary) throw new Error('no writable primary');
      await this.s.pools.query(
        this.s.node(snap.primary),
        `INSERT INTO proyecto.logs_replicacion (audit_id, evento, nodo, usuario, detalle)
         VALUES ($1, $2, $3, 'clusterbot', $4::jsonb) ON CONFLICT (audit_id) DO NOTHING`,
        [`backup:${e.id}`, `backup ${e.kind}`, e.kind === 'full' ? e.node : null, JSON.stringify(summary(e))],
      );
    } catch (err) {
      this.s.log.warn({ err: (err as Error).message, backup: e.id }, 'backup not recorded in proyecto.logs_replicacion');
    }
  }
}

export { summary } from './summary.js';

function takeLock(file: string, what: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, JSON.stringify({ pid: process.pid, what, at: new Date().toISOString() }), { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readHolder(file);
      if (holder && holder.pid !== process.pid && pidAlive(holder.pid)) {
        throw new UserError(`${holder.what} is already in progress (process ${holder.pid}, since ${holder.at.slice(11, 19)} UTC)`, 'wait for it to finish, then try again', 'busy');
      }
      rmSync(file, { force: true }); // left behind by a process that died
    }
  }
  throw new UserError('another backup operation holds the backup lock', 'wait for it to finish, then try again', 'busy');
}

function readHolder(file: string): { pid: number; what: string; at: string } | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The longest gap between the next few runs of a cron expression. */
export function cronIntervalMs(expr: string): number {
  const task = cron.createTask(expr, () => undefined);
  try {
    const runs = task.getNextRuns(5).map((d) => d.getTime());
    let gap = 0;
    for (let i = 1; i < runs.length; i++) gap = Math.max(gap, runs[i] - runs[i - 1]);
    return gap || 86_400_000;
  } finally {
    void task.destroy();
  }
}
