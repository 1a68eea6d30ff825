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
import { pgbackrestPaths } from './pgbackrest/conf.js';
import { describeRepos, type RepoDescription } from './pgbackrest/repos.js';
import { pgBackRestFailure } from './pgbackrest/run.js';
import { repoOverdue } from './repo-overdue.js';
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

/** One repository's part of a backup run: the set it got (and its verification), or why it got none. */
export interface RepoCopy {
  repo: RepoDescription;
  set: BackupSet | null;
  /** One line naming the repository and the next step, when the backup did not reach it. */
  error: string | null;
  verify?: VerifyResult;
}

/** A new backup (one per configured repository), and the older ones pgBackRest expired after it by retention. */
export interface TakenBackup {
  /** The first repository's new set (repo1 unless only another one took it). */
  set: BackupSet;
  copies: RepoCopy[];
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

  /** The configured repositories (repo1, and repo2 on S3 when set), as messages name them. */
  repos(): RepoDescription[] {
    return describeRepos(this.s.config, { repo1: pgbackrestPaths(this.s.config).repo });
  }

  /**
   * A backup of this kind into every configured repository, copied from a healthy replica where
   * pgBackRest can (backup-standby). pgBackRest's backup writes one repository per run, so it runs
   * once per repository (--repo=N); a repository that fails is reported in its copy, the others kept.
   */
  take(kind: SetKind, onProgress: (p: BackupProgress) => void = () => undefined): Promise<TakenBackup> {
    return this.exclusive(KIND_NAME[kind], async () => {
      const { config } = this.s;
      const snap = await this.s.snapshot();
      const choice = chooseBackupSource(snap, this.site.standbyBackups ? config.BACKUP_FROM : 'primary');
      if ('error' in choice) throw new UserError(choice.error, 'start the nodes (/cluster up) and try again', 'precondition');
      if (!snap.primary) throw new UserError('no writable primary: pgBackRest starts and stops every backup on the primary', 'bring the cluster up (/cluster up), then try again', 'precondition');
      const standby = choice.node !== snap.primary;
      const beforeSets = (await this.info()).sets;
      const before = new Set(beforeSets.map((x) => x.id));
      const nodes = standby ? [snap.primary, choice.node] : [snap.primary];
      const repos = this.repos();
      const failures = new Map<number, UserError>();
      // One run id on every repository's set: the overdue check sees which repository missed a run.
      const run = new Date().toISOString();
      for (const repo of repos) {
        const args = [`--repo=${repo.index}`, `--type=${kind}`, `--backup-standby=${standby ? 'y' : 'n'}`, `--annotation=node=${choice.node}`, `--annotation=run=${run}`, 'backup'];
        const poll = setInterval(() => void this.reportProgress(choice.node, repo.index, onProgress), 2000);
        try {
          const r = await this.site.db(nodes, args, { timeoutMs: 6 * 3600_000 });
          if (r.code !== 0) failures.set(repo.index, pgBackRestFailure(args, r, repos));
        } finally {
          clearInterval(poll);
        }
      }
      // Only the repositories that took it are asked again (an unreachable one would cost its timeout twice).
      const reachable = repos.filter((r) => !failures.has(r.index));
      const after = reachable.length === repos.length ? (await this.info()).sets : (await Promise.all(reachable.map((r) => this.info(r.index)))).flatMap((i) => i.sets);
      const fresh = after.filter((x) => !before.has(x.id));
      const copies: RepoCopy[] = repos.map((repo) => {
        const set = failures.has(repo.index) ? null : (fresh.filter((x) => x.repo === repo.index).at(-1) ?? null);
        const error = failures.get(repo.index)?.line ?? (set ? null : `pgBackRest backup on ${repo.label} reported success but no new backup is in it — run /cluster backups, then try again`);
        return { repo, set, error };
      });
      const failedRepoSets = new Set(beforeSets.filter((x) => failures.has(x.repo)).map((x) => x.id));
      const made = copies.filter((c) => c.set);
      if (!made.length) {
        const first = failures.get(repos[0].index);
        const lines = copies.map((c) => c.error).join('; ');
        if (first && repos.length === 1) throw new Error(`pgbackrest backup (${kind}) from ${choice.node} failed: ${first.message}`);
        throw new UserError(`no repository took the ${kind} backup from ${choice.node}: ${lines}`, 'fix the repositories named, then run it again', 'precondition');
      }
      // pgBackRest applies retention (BACKUP_RETENTION_FULL) at the end of every backup.
      const left = new Set(after.map((x) => x.id));
      const expired = [...before].filter((id) => !left.has(id) && !failedRepoSets.has(id));
      for (const c of made) await this.recordInCluster(c.set!);
      return { set: made[0].set!, copies, expired };
    });
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

  private polling = false;

  /** The running backup's progress, from the repository it writes (one poll at a time: a slow bucket must not pile them up). */
  private async reportProgress(node: string, repo: number, onProgress: (p: BackupProgress) => void): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    const r = await this.site.repo([`--repo=${repo}`, 'info', '--output=json'], { timeoutMs: 10_000 }).catch(() => null).finally(() => (this.polling = false));
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
  verify(id: string | undefined, onStep: (s: string) => void = () => undefined, repo?: number): Promise<{ set: BackupSet; result: VerifyResult }> {
    return this.exclusive(`verifying ${id ?? 'the newest backup'}`, async () => {
      const target = this.find((await this.info(repo)).sets, id);
      const t0 = performance.now();
      onStep(`pgbackrest verify of repo${target.repo}: checksums of every backup file and archived WAL segment`);
      const r = await this.site.repo(['--log-level-stderr=info', `--repo=${target.repo}`, 'verify', '--output=text', '--verbose'], { timeoutMs: 6 * 3600_000 });
      if (r.code !== 0) throw new Error(`pgbackrest verify failed to run: ${pgbackrestError(r)}`);
      const report = parseVerify(r.stdout, r.stderr);
      const labels = Object.keys(report.backups);
      const mine = report.problems.filter((p) => p.includes(target.id) || !labels.some((l) => p.includes(l)));
      const status = report.backups[target.id] ?? 'not checked';
      const problems = status === 'valid' ? mine : [`pgbackrest verify: ${target.id} is ${status}`, ...mine];
      const result: VerifyResult = {
        ok: problems.length === 0,
        problems,
        checks: [`pgbackrest verify of repo${target.repo}: ${labels.length} backups, ${report.walValid}/${report.walChecked} WAL segments valid`, `${target.id}: ${status}`],
        ms: Math.round(performance.now() - t0),
      };
      await this.annotate(target.repo, target.id, result.ok ? 'ok' : `failed: ${problems.join('; ').slice(0, 300)}`);
      for (const [label, st] of Object.entries(report.backups)) {
        if (label !== target.id && st === 'invalid') await this.annotate(target.repo, label, `failed: pgbackrest verify found ${label} invalid`);
      }
      const set = this.find((await this.info(target.repo)).sets, target.id);
      return { set, result };
    });
  }

  /** /cluster verify: the backup named, or else the newest backup of each repository, each in its own repository. */
  async verifyEach(id: string | undefined, onStep: (s: string) => void = () => undefined): Promise<Array<{ set: BackupSet; result: VerifyResult }>> {
    if (id !== undefined) return [await this.verify(id, onStep)];
    const sets = (await this.info()).sets;
    const newest = this.repos().map((r) => sets.filter((x) => x.repo === r.index).at(-1)).filter((x): x is BackupSet => !!x);
    if (!newest.length) this.find(sets);
    const out = [];
    for (const set of newest) out.push(await this.verify(set.id, onStep, set.repo));
    return out;
  }

  private async annotate(repo: number, label: string, verified: string): Promise<void> {
    const r = await this.site.repo([`--repo=${repo}`, `--set=${label}`, `--annotation=verified=${verified}`, `--annotation=verified-at=${new Date().toISOString()}`, 'annotate'], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`pgbackrest annotate ${label} failed: ${pgbackrestError(r)}`);
  }

  /**
   * A restore proof of a backup set. `repo` (1, 2) restricts the choice to that repository; without it
   * an id is found in any repository, and "the newest" is taken from the first repository that has one
   * (repo1, the local one, restores fastest). Backup and WAL both come from the set's own repository.
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
      const info = await this.info();
      const firstRepo = info.sets.find((x) => x.repo === Math.min(...info.sets.map((y) => y.repo)))?.repo;
      const pool = repo !== undefined ? info.sets.filter((x) => x.repo === repo) : id !== undefined ? info.sets : info.sets.filter((x) => x.repo === firstRepo);
      if (repo !== undefined && !pool.length) throw new UserError(`repo${repo} holds no backup yet`, 'take one: /cluster backup full (it goes to every configured repository)', 'precondition');
      const set = chooseRestoreSet(pool, id, target);
      // The live database's archive range says nothing about an earlier database's WAL (names start over).
      const archiveEnd = set.earlierDatabase ? null : (info.archiveByRepo[set.repo]?.max ?? null);
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
    const { config } = this.s;
    const repos = this.repos();
    if (!config.BACKUP_SCHEDULES && repos.length === 1) return null;
    let info: StanzaInfo;
    try {
      info = await this.recentInfo();
    } catch (e) {
      return `the backup repository cannot be read: ${(e as Error).message}`;
    }
    const schedules = config.BACKUP_SCHEDULES
      ? ([
          ['full', config.BACKUP_FULL_CRON, cronIntervalMs(config.BACKUP_FULL_CRON)],
          ['incremental', config.BACKUP_INCREMENTAL_CRON, cronIntervalMs(config.BACKUP_INCREMENTAL_CRON)],
        ] as Array<['full' | 'incremental', string, number]>)
      : [];
    return repoOverdue({ repos, info, now, since: this.since, schedules, running: this.runningNow() !== null });
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
