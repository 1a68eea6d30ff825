// The backup module's front door over pgBackRest: one operation at a time, every backup verified and
// recorded in the cluster's own table, and the view other modules read (last, overdue, health).
// pgBackRest's repository is the catalog; the bot keeps no index of its own.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import cron from 'node-cron';
import type { BackupsView, Services } from '../core/context.js';
import { UserError } from '../errors.js';
import { legacyBackups, removeLegacy, type LegacyBackup } from './legacy.js';
import { pidAlive, readHolder, takeLock } from './lock.js';
import { parseInfo, parseVerify, type BackupSet, type SetKind, type StanzaInfo, type SwitchPoint } from './pgbackrest/info.js';
import { pgbackrestError, type PgBackRestSite } from './pgbackrest/site.js';
import { chooseRestoreSet, parseTargetTime, restoreCheck, type RestoreCheckResult } from './restore-check.js';
import { planExpire, type PrunePlan } from './retention.js';
import { chooseBackupSource } from './source.js';

export interface VerifyResult {
  ok: boolean;
  /** One line per problem, each naming the file or segment pgBackRest named. */
  problems: string[];
  /** What was checked, for the card. */
  checks: string[];
  ms: number;
}

export interface BackupProgress {
  node: string;
  percent: number;
  doneBytes: number;
  totalBytes: number;
}

/** A new backup, and the older ones pgBackRest expired after it by retention. */
export interface TakenBackup {
  set: BackupSet;
  expired: string[];
}

const KIND_NAME: Record<SetKind, string> = { full: 'a full backup', diff: 'a differential backup', incr: 'an incremental backup' };

export class BackupService implements BackupsView {
  private busy: string | null = null;
  /** Overdue is measured from here when there has never been a backup. */
  private readonly since = Date.now();

  constructor(
    private readonly s: Services,
    readonly site: PgBackRestSite,
  ) {}

  private get lockFile(): string {
    return `${this.s.config.backupDir}/.backup.lock`;
  }

  private async exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy) throw new UserError(`${this.busy} is already in progress`, 'wait for it to finish, then try again', 'busy');
    this.busy = what;
    let locked = false;
    try {
      await this.site.prepare();
      takeLock(this.lockFile, what);
      locked = true;
      return await fn();
    } finally {
      if (locked) rmSync(this.lockFile, { force: true });
      this.busy = null;
      this.recent = null;
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

  /** The repository as pgBackRest reports it. */
  async info(): Promise<StanzaInfo> {
    await this.site.prepare();
    const r = await this.site.repo(['info', '--output=json'], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`pgbackrest info failed: ${pgbackrestError(r)}`);
    const info = parseInfo(r.stdout, this.s.config.BACKUP_STANZA);
    this.recent = { at: Date.now(), info: Promise.resolve(info) };
    return info;
  }

  private recent: { at: number; info: Promise<StanzaInfo> } | null = null;

  /** info() shared by the status line's readers (last, overdue, stanza health) for a few seconds. */
  recentInfo(maxAgeMs = 5000): Promise<StanzaInfo> {
    if (!this.recent || Date.now() - this.recent.at > maxAgeMs) {
      const info = this.info();
      this.recent = { at: Date.now(), info };
      info.catch(() => (this.recent = null));
    }
    return this.recent.info;
  }

  /** The stanza exists (created by /cluster up; again after a reset or a major upgrade: stanza-upgrade). */
  async ensureStanza(): Promise<string> {
    await this.site.prepare();
    const snap = await this.s.snapshot();
    if (!snap.primary) throw new UserError('no writable primary: the stanza cannot be checked', 'bring the cluster up (/cluster up) and try again', 'precondition');
    const create = await this.site.db([snap.primary], ['stanza-create'], { timeoutMs: 120_000 });
    if (create.code === 0) return `stanza ${this.s.config.BACKUP_STANZA} ready`;
    // A new database (reset, upgrade) in an existing repository: a new history entry; old backups stay.
    if (/do not match the database|system-id|version/i.test(pgbackrestError(create))) {
      const up = await this.site.db([snap.primary], ['stanza-upgrade'], { timeoutMs: 120_000 });
      if (up.code === 0) return `stanza ${this.s.config.BACKUP_STANZA} upgraded to the new database`;
      throw new Error(`pgbackrest stanza-upgrade failed: ${pgbackrestError(up)}`);
    }
    throw new Error(`pgbackrest stanza-create failed: ${pgbackrestError(create)}`);
  }

  /** A backup of this kind, copied from a healthy replica where pgBackRest can (backup-standby). */
  take(kind: SetKind, onProgress: (p: BackupProgress) => void = () => undefined): Promise<TakenBackup> {
    return this.exclusive(KIND_NAME[kind], async () => {
      const { config } = this.s;
      const snap = await this.s.snapshot();
      const choice = chooseBackupSource(snap, this.site.standbyBackups ? config.BACKUP_FROM : 'primary');
      if ('error' in choice) throw new UserError(choice.error, 'start the nodes (/cluster up) and try again', 'precondition');
      if (!snap.primary) throw new UserError('no writable primary: pgBackRest starts and stops every backup on the primary', 'bring the cluster up (/cluster up), then try again', 'precondition');
      const standby = choice.node !== snap.primary;
      const before = new Set((await this.info()).sets.map((x) => x.id));
      const args = [`--type=${kind}`, `--backup-standby=${standby ? 'y' : 'n'}`, `--annotation=node=${choice.node}`, 'backup'];
      const nodes = standby ? [snap.primary, choice.node] : [snap.primary];
      const poll = setInterval(() => void this.reportProgress(choice.node, onProgress), 2000);
      let r;
      try {
        r = await this.site.db(nodes, args, { timeoutMs: 6 * 3600_000 });
      } finally {
        clearInterval(poll);
      }
      if (r.code !== 0) throw new Error(`pgbackrest backup (${kind}) from ${choice.node} failed: ${pgbackrestError(r)}`);
      const after = (await this.info()).sets;
      const set = after.filter((x) => !before.has(x.id)).at(-1);
      if (!set) throw new Error(`pgbackrest backup (${kind}) reported success but no new backup is in the repository`);
      // pgBackRest applies retention (BACKUP_RETENTION_FULL) at the end of every backup.
      const left = new Set(after.map((x) => x.id));
      const expired = [...before].filter((id) => !left.has(id));
      await this.recordInCluster(set);
      return { set, expired };
    });
  }

  private async reportProgress(node: string, onProgress: (p: BackupProgress) => void): Promise<void> {
    const r = await this.site.repo(['info', '--output=json'], { timeoutMs: 10_000 }).catch(() => null);
    if (!r || r.code !== 0) return;
    const running = parseInfo(r.stdout, this.s.config.BACKUP_STANZA).running;
    if (running) onProgress({ node, doneBytes: running.done, totalBytes: running.total, percent: Math.floor((100 * running.done) / running.total) });
  }

  /** The set for an id, or the newest one; an unknown id is a one-line UserError. */
  find(sets: BackupSet[], id?: string): BackupSet {
    if (!sets.length) throw new UserError('there are no pgBackRest backups yet', 'take one: /cluster backup full', 'not_found');
    if (id === undefined) return sets[sets.length - 1];
    const e = sets.find((x) => x.id === id);
    if (!e) throw new UserError(`unknown backup id "${id.slice(0, 40)}"`, `/cluster backups lists them (newest: ${sets[sets.length - 1].id})`, 'not_found');
    return e;
  }

  /**
   * pgbackrest verify: every file of every backup and every archived WAL segment against its
   * checksum. The result is written into the backup's annotations (verified=ok|failed: …), so
   * /cluster backups shows it; a backup verify finds broken is marked failed, never good.
   */
  verify(id: string | undefined, onStep: (s: string) => void = () => undefined): Promise<{ set: BackupSet; result: VerifyResult }> {
    return this.exclusive(`verifying ${id ?? 'the newest backup'}`, async () => {
      const target = this.find((await this.info()).sets, id);
      const t0 = performance.now();
      onStep('pgbackrest verify: checksums of every backup file and archived WAL segment');
      const r = await this.site.repo(['--log-level-stderr=info', 'verify', '--output=text', '--verbose'], { timeoutMs: 6 * 3600_000 });
      if (r.code !== 0) throw new Error(`pgbackrest verify failed to run: ${pgbackrestError(r)}`);
      const report = parseVerify(r.stdout, r.stderr);
      const labels = Object.keys(report.backups);
      const mine = report.problems.filter((p) => p.includes(target.id) || !labels.some((l) => p.includes(l)));
      const status = report.backups[target.id] ?? 'not checked';
      const problems = status === 'valid' ? mine : [`pgbackrest verify: ${target.id} is ${status}`, ...mine];
      const result: VerifyResult = {
        ok: problems.length === 0,
        problems,
        checks: [`pgbackrest verify: ${labels.length} backups, ${report.walValid}/${report.walChecked} WAL segments valid`, `${target.id}: ${status}`],
        ms: Math.round(performance.now() - t0),
      };
      await this.annotate(target.id, result.ok ? 'ok' : `failed: ${problems.join('; ').slice(0, 300)}`);
      for (const [label, st] of Object.entries(report.backups)) {
        if (label !== target.id && st === 'invalid') await this.annotate(label, `failed: pgbackrest verify found ${label} invalid`);
      }
      const set = this.find((await this.info()).sets, target.id);
      return { set, result };
    });
  }

  private async annotate(label: string, verified: string): Promise<void> {
    const r = await this.site.repo([`--set=${label}`, `--annotation=verified=${verified}`, `--annotation=verified-at=${new Date().toISOString()}`, 'annotate'], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`pgbackrest annotate ${label} failed: ${pgbackrestError(r)}`);
  }

  restoreCheck(id: string | undefined, time: string | undefined, onStep: (s: string) => void = () => undefined): Promise<{ set: BackupSet; result: RestoreCheckResult }> {
    const target = time === undefined ? null : parseTargetTime(time);
    return this.exclusive(`a restore check of ${id ?? 'the newest backup'}`, async () => {
      // The target must be covered by archived WAL: close the current segment and wait for its push.
      if (target) {
        onStep('archiving the current WAL segment (pgbackrest check)');
        await this.check();
      }
      const info = await this.info();
      const set = chooseRestoreSet(info.sets, id, target);
      // The live database's archive range says nothing about an earlier database's WAL (names start over).
      const archiveEnd = set.earlierDatabase ? null : info.archiveMax;
      return { set, result: await restoreCheck(this.s.config, this.site, set, target, archiveEnd, onStep) };
    });
  }

  /** pgbackrest check on the primary: a WAL switch archived through archive_command, end to end. */
  async check(): Promise<void> {
    const snap = await this.s.snapshot();
    if (!snap.primary) throw new UserError('no writable primary to check archiving on', 'bring the cluster up (/cluster up) and try again', 'precondition');
    const r = await this.site.db([snap.primary], ['check'], { timeoutMs: 180_000 });
    if (r.code !== 0) throw new Error(`pgbackrest check on ${snap.primary} failed: ${pgbackrestError(r)}`);
  }

  /** What retention (BACKUP_RETENTION_FULL) would expire now, old-engine backups included. */
  async planPrune(): Promise<PrunePlan> {
    return planExpire((await this.info()).sets, legacyBackups(this.s.config), this.s.config.BACKUP_RETENTION_FULL);
  }

  /** pgbackrest expire, then the old-engine backups of the plan that was shown (if still due). */
  prune(shown?: PrunePlan): Promise<PrunePlan> {
    return this.exclusive('pruning backups', async () => {
      const before = await this.info();
      const plan = planExpire(before.sets, legacyBackups(this.s.config), this.s.config.BACKUP_RETENTION_FULL);
      const r = await this.site.repo(['expire'], { timeoutMs: 3600_000 });
      if (r.code !== 0) throw new Error(`pgbackrest expire failed: ${pgbackrestError(r)}`);
      const left = new Set((await this.info()).sets.map((x) => x.id));
      const legacy = plan.legacy.filter((l) => !shown || shown.legacy.some((x) => x.id === l.id));
      removeLegacy(this.s.config, legacy.map((l) => l.id));
      return { ...plan, remove: before.sets.filter((x) => !left.has(x.id)), legacy };
    });
  }

  async last() {
    const sets = await this.recentInfo().then((i) => i.sets).catch(() => []);
    const e = sets.at(-1);
    if (e) return { id: e.id, kind: e.kind, at: e.finishedAt, sizeBytes: e.repoBytes, durationMs: e.durationMs, verified: e.verified };
    const old = legacyBackups(this.s.config).at(-1);
    return old ? { id: old.id, kind: `${old.kind}, old engine`, at: old.finishedAt, sizeBytes: old.sizeBytes, durationMs: old.durationMs, verified: old.verified } : null;
  }

  /** A backup is overdue when more than two scheduled intervals passed without one (one missed run). */
  async overdue(now = Date.now()): Promise<string | null> {
    const { config } = this.s;
    if (!config.BACKUP_SCHEDULES) return null;
    let sets: BackupSet[];
    try {
      sets = (await this.recentInfo()).sets;
    } catch (e) {
      return `the backup repository cannot be read: ${(e as Error).message}`;
    }
    const checks: Array<[string, string, { id: string; finishedAt: string } | undefined]> = [
      ['full', config.BACKUP_FULL_CRON, sets.filter((e) => e.kind === 'full').at(-1)],
      ['incremental', config.BACKUP_INCREMENTAL_CRON, sets.at(-1)],
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

  /**
   * The cluster's latest timeline switch (failover or switchover), or null on timeline 1: the
   * primary's timeline, and when its history file reached the repository.
   */
  async switchPoint(): Promise<SwitchPoint | null> {
    const snap = await this.s.snapshot();
    const tli = snap.nodes.find((n) => n.name === snap.primary)?.timeline ?? null;
    if (!tli || tli <= 1) return null;
    const name = `${tli.toString(16).toUpperCase().padStart(8, '0')}.history`;
    const root = `${this.s.config.walArchiveDir}/archive/${this.s.config.BACKUP_STANZA}`;
    const dirs = existsSync(root) ? readdirSync(root).filter((d) => existsSync(`${root}/${d}/${name}`)) : [];
    const at = dirs.length ? statSync(`${root}/${dirs.at(-1)}/${name}`).mtime.toISOString() : null;
    return { timeline: tli, at };
  }

  /** Old-engine backups (read only) for the listing. */
  legacy(): LegacyBackup[] {
    return legacyBackups(this.s.config);
  }

  /** Write the backup into the cluster's own event table (best effort: the repository is the record). */
  private async recordInCluster(e: BackupSet): Promise<void> {
    try {
      const snap = await this.s.snapshot();
      if (!snap.primary) throw new Error('no writable primary');
      await this.s.pools.query(
        this.s.node(snap.primary),
        `INSERT INTO proyecto.logs_replicacion (audit_id, evento, nodo, usuario, detalle)
         VALUES ($1, $2, $3, 'clusterbot', $4::jsonb) ON CONFLICT (audit_id) DO NOTHING`,
        [`backup:${e.id}`, `backup ${e.kind}`, e.node, JSON.stringify(e)],
      );
    } catch (err) {
      this.s.log.warn({ err: (err as Error).message, backup: e.id }, 'backup not recorded in proyecto.logs_replicacion');
    }
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
