// The backup module's front door over pgBackRest: one operation at a time, every backup verified and
// recorded in the cluster's own table, and the view other modules read (last, overdue, health).
// pgBackRest's repository is the catalog; the bot keeps no index of its own. The work itself lives
// beside it: backup-run.ts (a backup into every repository), verify-backup.ts, restore-check.ts,
// stanza.ts, retention.ts and repo-overdue.ts.
import { rmSync } from 'node:fs';
import type { BackupsView, Services } from '../core/context.js';
import { UserError } from '../errors.js';
import { backupEveryRepo, KIND_NAME, type BackupProgress, type RepoCopy, type TakenBackup } from './backup-run.js';
import { legacyBackups, removeLegacy, type LegacyBackup } from './legacy.js';
import { pidAlive, readHolder, takeLock } from './lock.js';
import { parseInfo, type BackupSet, type SetKind, type StanzaInfo, type SwitchPoint } from './pgbackrest/info.js';
import { pgbackrestError, type PgBackRestSite } from './pgbackrest/site.js';
import { pgbackrestPaths } from './pgbackrest/conf.js';
import { describeRepos, type RepoDescription } from './pgbackrest/repos.js';
import { repoOverdue, scheduleIntervals } from './repo-overdue.js';
import { parseTargetTime, restoreCheck, restoreTarget, type RestoreCheckResult } from './restore-check.js';
import { planExpire, type PrunePlan } from './retention.js';
import { checkArchiving, ensureStanza, switchPoint } from './stanza.js';
import { newestPerRepo, verifyInRepo, type VerifyResult } from './verify-backup.js';

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

  /**
   * The repositories as pgBackRest reports them, or one repository only (`repo`): an unreachable one
   * costs ~4 × BACKUP_S3_TIMEOUT_SECONDS, which a command about another repository need not wait for.
   */
  async info(repo?: number): Promise<StanzaInfo> {
    await this.site.prepare();
    const r = await this.site.repo([...(repo ? [`--repo=${repo}`] : []), 'info', '--output=json'], { timeoutMs: 600_000 });
    if (r.code !== 0) throw new Error(`pgbackrest info failed: ${pgbackrestError(r)}`);
    const info = parseInfo(r.stdout, this.s.config.BACKUP_STANZA);
    if (!repo) this.recent = { at: Date.now(), info: Promise.resolve(info), settled: true };
    return info;
  }

  private recent: { at: number; info: Promise<StanzaInfo>; settled: boolean } | null = null;

  /** info() shared by the status line's readers (last, overdue, stanza health) for a few seconds. */
  recentInfo(maxAgeMs = 5000): Promise<StanzaInfo> {
    // One info at a time: a slow repository must not pile up pgbackrest processes.
    if (!this.recent || (this.recent.settled && Date.now() - this.recent.at > maxAgeMs)) {
      const info = this.info();
      const entry: { at: number; info: Promise<StanzaInfo>; settled: boolean } = { at: Date.now(), info, settled: false };
      this.recent = entry;
      info.then(
        () => ((entry.settled = true), (entry.at = Date.now())),
        () => this.recent === entry && (this.recent = null),
      );
    }
    return this.recent.info;
  }

  /** The stanza exists (created by /cluster up; again after a reset or a major upgrade: stanza-upgrade). */
  async ensureStanza(): Promise<string> {
    await this.site.prepare();
    return ensureStanza(this.s, this.site);
  }

  /** The configured repositories (repo1, and repo2 on S3 when set), as messages name them. */
  repos(): RepoDescription[] {
    return describeRepos(this.s.config, { repo1: pgbackrestPaths(this.s.config).repo });
  }

  /** A backup of this kind into every configured repository (backup-run.ts), from a replica where pgBackRest can. */
  take(kind: SetKind, onProgress: (p: BackupProgress) => void = () => undefined): Promise<TakenBackup> {
    return this.exclusive(KIND_NAME[kind], () => backupEveryRepo({ s: this.s, site: this.site, repos: this.repos(), info: (repo) => this.info(repo) }, kind, onProgress));
  }

  /** Each copy of a new backup verified in its own repository (pgbackrest verify --repo=N). */
  async verifyCopies(copies: RepoCopy[], onStep: (s: string) => void = () => undefined): Promise<RepoCopy[]> {
    const out: RepoCopy[] = [];
    for (const c of copies) {
      if (!c.set) {
        out.push(c);
        continue;
      }
      const { set, result } = await this.verify(c.set.id, onStep, c.repo.index);
      out.push({ ...c, set, verify: result });
    }
    return out;
  }

  /** The set for an id, or the newest one; an unknown id is a one-line UserError. */
  find(sets: BackupSet[], id?: string): BackupSet {
    if (!sets.length) throw new UserError('there are no pgBackRest backups yet', 'take one: /cluster backup full', 'not_found');
    if (id === undefined) return sets[sets.length - 1];
    const e = sets.find((x) => x.id === id);
    if (!e) throw new UserError(`unknown backup id "${id.slice(0, 40)}"`, `/cluster backups lists them (newest: ${sets[sets.length - 1].id})`, 'not_found');
    return e;
  }

  /** pgbackrest verify of a backup (verify-backup.ts), and the set as its annotation now reads. */
  verify(id: string | undefined, onStep: (s: string) => void = () => undefined, repo?: number): Promise<{ set: BackupSet; result: VerifyResult }> {
    return this.exclusive(`verifying ${id ?? 'the newest backup'}`, async () => {
      const target = this.find((await this.info(repo)).sets, id);
      const result = await verifyInRepo(this.site, target, onStep);
      const set = this.find((await this.info(target.repo)).sets, target.id);
      return { set, result };
    });
  }

  /** /cluster verify: the backup named, or else the newest backup of each repository, each in its own repository. */
  async verifyEach(id: string | undefined, onStep: (s: string) => void = () => undefined): Promise<Array<{ set: BackupSet; result: VerifyResult }>> {
    if (id !== undefined) return [await this.verify(id, onStep)];
    const sets = (await this.info()).sets;
    const newest = newestPerRepo(sets, this.repos());
    if (!newest.length) this.find(sets);
    const out = [];
    for (const set of newest) out.push(await this.verify(set.id, onStep, set.repo));
    return out;
  }

  /**
   * A restore proof of a backup set (restore-check.ts), optionally to a time and from one repository
   * (1, 2). Backup and WAL both come from the set's own repository.
   */
  restoreCheck(id: string | undefined, time: string | undefined, onStep: (s: string) => void = () => undefined, repo?: number): Promise<{ set: BackupSet; result: RestoreCheckResult }> {
    const target = time === undefined ? null : parseTargetTime(time);
    if (repo !== undefined && !this.repos().some((r) => r.index === repo)) {
      throw new UserError(`repo${repo} is not configured`, `the repositories are ${this.repos().map((r) => r.label).join(', ')}`, 'bad_input');
    }
    return this.exclusive(`a restore check of ${id ?? (repo ? `the newest backup in repo${repo}` : 'the newest backup')}`, async () => {
      // The target must be covered by archived WAL: close the current segment and wait for its push.
      if (target) {
        onStep('archiving the current WAL segment (pgbackrest check)');
        await this.check();
      }
      const { set, archiveEnd } = restoreTarget(await this.info(), id, target, repo);
      return { set, result: await restoreCheck(this.s.config, this.site, set, target, archiveEnd, onStep) };
    });
  }

  /** pgbackrest check on the primary: a WAL switch archived through archive_command, end to end. */
  check(): Promise<void> {
    return checkArchiving(this.s, this.site);
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

  private lastOverdue: string | null = null;

  /**
   * A backup is overdue when more than two scheduled intervals passed without one (one missed run) in
   * any repository, when a repository missed the newest backup, or cannot be read. A slow repository
   * (an unreachable bucket takes ~4 × BACKUP_S3_TIMEOUT_SECONDS) never holds the monitor up: after a
   * few seconds the previous verdict is returned, and the new one is kept for the next call.
   */
  overdue(now = Date.now(), waitMs = 3000): Promise<string | null> {
    const verdict = this.overdueNow(now).then((v) => (this.lastOverdue = v));
    let timer: NodeJS.Timeout | undefined;
    const previous = new Promise<string | null>((res) => (timer = setTimeout(() => res(this.lastOverdue), waitMs)));
    return Promise.race([verdict, previous]).finally(() => clearTimeout(timer));
  }

  private async overdueNow(now: number): Promise<string | null> {
    const repos = this.repos();
    if (!this.s.config.BACKUP_SCHEDULES && repos.length === 1) return null;
    let info: StanzaInfo;
    try {
      info = await this.recentInfo();
    } catch (e) {
      return `the backup repository cannot be read: ${(e as Error).message}`;
    }
    return repoOverdue({ repos, info, now, since: this.since, schedules: scheduleIntervals(this.s.config), running: this.runningNow() !== null });
  }

  /** The cluster's latest timeline switch (failover or switchover), or null on timeline 1. */
  switchPoint(): Promise<SwitchPoint | null> {
    return switchPoint(this.s);
  }

  /** Old-engine backups (read only) for the listing. */
  legacy(): LegacyBackup[] {
    return legacyBackups(this.s.config);
  }
}
