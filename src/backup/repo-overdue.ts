// The backup-overdue verdict, per repository: a repository that cannot be read, one that missed the
// newest backup run (it reached another repository only), and scheduled backups older than two of
// their intervals (read from their cron expressions). Pure: pgBackRest's info and the clock in, one
// sentence (or null) out.
import cron from 'node-cron';
import type { Config } from '../config.js';
import type { BackupSet, StanzaInfo } from './pgbackrest/info.js';
import type { RepoDescription } from './pgbackrest/repos.js';

export interface OverdueInput {
  repos: RepoDescription[];
  info: StanzaInfo;
  now: number;
  /** When the bot started: overdue is measured from here while a repository has no backup. */
  since: number;
  /** [kind, cron expression, interval ms] of each schedule; empty without BACKUP_SCHEDULES. */
  schedules: Array<['full' | 'incremental', string, number]>;
  /** A backup is running: a repository may not have its copy yet. */
  running: boolean;
}

/** [kind, cron expression, interval ms] of the full and incremental schedules; none without BACKUP_SCHEDULES. */
export function scheduleIntervals(config: Config): OverdueInput['schedules'] {
  if (!config.BACKUP_SCHEDULES) return [];
  return [
    ['full', config.BACKUP_FULL_CRON, cronIntervalMs(config.BACKUP_FULL_CRON)],
    ['incremental', config.BACKUP_INCREMENTAL_CRON, cronIntervalMs(config.BACKUP_INCREMENTAL_CRON)],
  ];
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

// pgBackRest's repository status codes that mean "readable": ok, and no valid backups (yet).
const READABLE = new Set([0, 2]);

export function repoOverdue(i: OverdueInput): string | null {
  const several = i.repos.length > 1;
  for (const repo of i.repos) {
    const status = i.info.repos.find((r) => r.key === repo.index);
    if (several && status && !READABLE.has(status.code)) return `${repo.label} cannot be read: ${status.message} — ${repo.check}`;
  }
  if (several && !i.running) {
    const missing = missedNewestRun(i.repos, i.info.sets);
    if (missing) return missing;
  }
  for (const repo of i.repos) {
    const sets = i.info.sets.filter((x) => x.repo === repo.index);
    const where = several ? ` in ${repo.label}` : '';
    for (const [kind, expr, interval] of i.schedules) {
      const last = (kind === 'full' ? sets.filter((e) => e.kind === 'full') : sets).at(-1);
      const ref = last ? Date.parse(last.finishedAt) : i.since;
      if (i.now - ref <= 2 * interval) continue;
      const hours = ((i.now - ref) / 3_600_000).toFixed(1);
      const every = `"${expr}" expects one every ${(interval / 3_600_000).toFixed(1)} h`;
      return last
        ? `${kind} backup overdue${where}: the last one (${last.id}) finished ${hours} h ago; ${every}`
        : `${kind} backup overdue${where}: none in the ${hours} h since the bot started; ${every}`;
    }
  }
  return null;
}

/** The newest backup run (the newest set, and the sets of its run) and the repository that has no set of it. */
function missedNewestRun(repos: RepoDescription[], sets: BackupSet[]): string | null {
  const newest = [...sets].sort((a, b) => a.startedAt.localeCompare(b.startedAt)).at(-1);
  if (!newest) return null;
  const run = newest.run ? sets.filter((x) => x.run === newest.run) : [newest];
  const has = new Set(run.map((x) => x.repo));
  const lacking = repos.find((r) => !has.has(r.index));
  if (!lacking) return null;
  const older = sets.filter((x) => x.repo === lacking.index).at(-1);
  return `${run[0].kind} backup overdue in ${lacking.label}: the newest backup ${run.map((x) => x.id).join('/')} reached repo${[...has].join(', repo')} only; ${older ? `its newest is ${older.id} (${older.finishedAt})` : 'it holds no backup'} — ${lacking.check}, then run /cluster backup full`;
}
