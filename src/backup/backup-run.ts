// One backup run: a backup of one kind into every configured repository (pgBackRest's backup writes one
// repository per run, so it runs once per repository, --repo=N), its progress, and what the cards show:
// each repository's new set or why it got none, and what retention expired after it.
import type { Services } from '../core/context.js';
import { UserError } from '../errors.js';
import { parseInfo, type BackupSet, type SetKind, type StanzaInfo } from './pgbackrest/info.js';
import type { RepoDescription } from './pgbackrest/repos.js';
import { pgBackRestFailure } from './pgbackrest/run.js';
import type { PgBackRestSite } from './pgbackrest/site.js';
import { chooseBackupSource } from './source.js';
import { checkpoint } from '../cluster/failover/long-query.js';
import type { VerifyResult } from './verify-backup.js';

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

export const KIND_NAME: Record<SetKind, string> = { full: 'a full backup', diff: 'a differential backup', incr: 'an incremental backup' };

/** What a backup run reads and writes through. */
export interface BackupRunDeps {
  s: Services;
  site: PgBackRestSite;
  repos: RepoDescription[];
  /** pgbackrest info of every repository, or of one (`repo`). */
  info(repo?: number): Promise<StanzaInfo>;
}

/** The nodes pgBackRest needs for this backup: the primary, and the replica it copies from (backup-standby). */
async function backupSource(d: BackupRunDeps): Promise<{ node: string; nodes: string[]; standby: boolean }> {
  const snap = await d.s.snapshot();
  const choice = chooseBackupSource(snap, d.site.standbyBackups ? d.s.config.BACKUP_FROM : 'primary');
  if ('error' in choice) throw new UserError(choice.error, 'start the nodes (/cluster up) and try again', 'precondition');
  if (!snap.primary) throw new UserError('no writable primary: pgBackRest starts and stops every backup on the primary', 'bring the cluster up (/cluster up), then try again', 'precondition');
  await checkpointAfterPromotion(d.s, snap.primary);
  const standby = choice.node !== snap.primary;
  return { node: choice.node, nodes: standby ? [snap.primary, choice.node] : [snap.primary], standby };
}

/**
 * pgBackRest (2.45 and later) compares the backup's start WAL timeline with the timeline in
 * pg_control as read when it connected, before its own start checkpoint. A primary promoted since
 * its last completed checkpoint still says the old timeline there (the end-of-recovery checkpoint is
 * spread over minutes on a busy server), and the backup fails with "WAL timeline 2 does not match
 * pg_control timeline 1" — right when the failover card offers "Take a full backup now". So the
 * backup first makes that checkpoint, as pgBackRest's own start would a moment later.
 */
async function checkpointAfterPromotion(s: Services, primary: string): Promise<void> {
  const node = s.node(primary);
  const [row] = (
    await s.pools.query<{ checkpoint: number; current: string }>(
      node,
      'SELECT (SELECT timeline_id FROM pg_control_checkpoint()) AS checkpoint, substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) AS current',
    )
  ).rows;
  if (row && Number(row.checkpoint) !== parseInt(row.current, 16)) await checkpoint(s, node);
}

/**
 * A backup of this kind into every configured repository, copied from a healthy replica where
 * pgBackRest can (backup-standby); a repository that fails is reported in its copy, the others kept.
 */
export async function backupEveryRepo(d: BackupRunDeps, kind: SetKind, onProgress: (p: BackupProgress) => void): Promise<TakenBackup> {
  const { repos } = d;
  const source = await backupSource(d);
  const beforeSets = (await d.info()).sets;
  const before = new Set(beforeSets.map((x) => x.id));
  const failures = await runEachRepo(d, kind, source, onProgress);
  // Only the repositories that took it are asked again (an unreachable one would cost its timeout twice).
  const reachable = repos.filter((r) => !failures.has(r.index));
  const after = reachable.length === repos.length ? (await d.info()).sets : (await Promise.all(reachable.map((r) => d.info(r.index)))).flatMap((i) => i.sets);
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
    if (first && repos.length === 1) throw new Error(`pgbackrest backup (${kind}) from ${source.node} failed: ${first.message}`);
    throw new UserError(`no repository took the ${kind} backup from ${source.node}: ${lines}`, 'fix the repositories named, then run it again', 'precondition');
  }
  // pgBackRest applies retention (BACKUP_RETENTION_FULL) at the end of every backup.
  const left = new Set(after.map((x) => x.id));
  const expired = [...before].filter((id) => !left.has(id) && !failedRepoSets.has(id));
  for (const c of made) await recordInCluster(d.s, c.set!);
  return { set: made[0].set!, copies, expired };
}

/** pgbackrest backup --repo=N for each repository in turn; the failures by repository index. */
async function runEachRepo(
  d: BackupRunDeps,
  kind: SetKind,
  source: { node: string; nodes: string[]; standby: boolean },
  onProgress: (p: BackupProgress) => void,
): Promise<Map<number, UserError>> {
  const failures = new Map<number, UserError>();
  const progress = progressReader(d, onProgress);
  // One run id on every repository's set: the overdue check sees which repository missed a run.
  const run = new Date().toISOString();
  for (const repo of d.repos) {
    const args = [`--repo=${repo.index}`, `--type=${kind}`, `--backup-standby=${source.standby ? 'y' : 'n'}`, `--annotation=node=${source.node}`, `--annotation=run=${run}`, 'backup'];
    const poll = setInterval(() => void progress(source.node, repo.index), 2000);
    try {
      const r = await d.site.db(source.nodes, args, { timeoutMs: 6 * 3600_000 });
      if (r.code !== 0) failures.set(repo.index, pgBackRestFailure(args, r, d.repos));
    } finally {
      clearInterval(poll);
    }
  }
  return failures;
}

/** The running backup's progress, from the repository it writes (one poll at a time: a slow bucket must not pile them up). */
function progressReader(d: BackupRunDeps, onProgress: (p: BackupProgress) => void): (node: string, repo: number) => Promise<void> {
  let polling = false;
  return async (node, repo) => {
    if (polling) return;
    polling = true;
    const r = await d.site.repo([`--repo=${repo}`, 'info', '--output=json'], { timeoutMs: 10_000 }).catch(() => null).finally(() => (polling = false));
    if (!r || r.code !== 0) return;
    const running = parseInfo(r.stdout, d.s.config.BACKUP_STANZA).running;
    if (running) onProgress({ node, doneBytes: running.done, totalBytes: running.total, percent: Math.floor((100 * running.done) / running.total) });
  };
}

/** Write the backup into the cluster's own event table (best effort: the repository is the record). */
async function recordInCluster(s: Services, e: BackupSet): Promise<void> {
  try {
    const snap = await s.snapshot();
    if (!snap.primary) throw new Error('no writable primary');
    await s.pools.query(
      s.node(snap.primary),
      `INSERT INTO proyecto.logs_replicacion (audit_id, evento, nodo, usuario, detalle)
       VALUES ($1, $2, $3, 'clusterbot', $4::jsonb) ON CONFLICT (audit_id) DO NOTHING`,
      [`backup:${e.id}`, `backup ${e.kind}`, e.node, JSON.stringify(e)],
    );
  } catch (err) {
    s.log.warn({ err: (err as Error).message, backup: e.id }, 'backup not recorded in proyecto.logs_replicacion');
  }
}
