// Proof of recoverability: pgbackrest restore of a backup set (optionally to a point in time) into a
// scratch instance, start it (WAL from the repository through archive-get), ask it real questions,
// then stop and delete it.
import { UserError } from '../errors.js';
import type { BackupSet, StanzaInfo } from './pgbackrest/info.js';
import type { PgBackRestSite } from './pgbackrest/site.js';
import { pgbackrestError } from './pgbackrest/site.js';
import { pgbackrestPaths } from './pgbackrest/conf.js';
import type { Config } from '../config.js';
import { ScratchInstance } from './scratch.js';
import { mkdirForPostgres } from './files.js';

export interface RestoreCheckResult {
  backup: string;
  /** The repository the backup and its WAL were read from. */
  repo: number;
  target: string | null;
  restoreMs: number;
  usuarios: number;
  lastLog: { id: number; evento: string; fecha: string } | null;
  timeline: number;
  port: number;
  /** Where replay ended, and the newest archived segment it had to reach (null: a target time). */
  replayedTo: string;
  archiveEnd: string | null;
}

const TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** "2026-11-25T19:30:00Z", "2026-11-25 19:30" (UTC) or with an offset; anything else is a UserError. */
export function parseTargetTime(text: string, now = new Date()): Date {
  const m = TIME.exec(text.trim());
  const at = m && realCalendarTime(m) ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}${m[7] ?? ''}${normaliseZone(m[8])}`) : null;
  if (!at || Number.isNaN(at.getTime())) {
    throw new UserError(`time "${text.slice(0, 40)}" is not a time like 2026-11-25T19:30:00Z`, 'write it as ISO 8601 (UTC unless it carries an offset)');
  }
  if (at.getTime() > now.getTime()) {
    throw new UserError(`time ${at.toISOString()} is in the future`, 'choose a time at or before now');
  }
  return at;
}

/** No 30 February, no 25:00 (Date would roll them over silently). */
function realCalendarTime(m: RegExpExecArray): boolean {
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, sec));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d && t.getUTCHours() === h && t.getUTCMinutes() === mi && t.getUTCSeconds() === sec;
}

function normaliseZone(z: string | undefined): string {
  if (!z || /^z$/i.test(z)) return 'Z';
  return z.length === 3 ? `${z}:00` : z.includes(':') ? z : `${z.slice(0, 3)}:${z.slice(3)}`;
}

/** Which backup set to restore for an id and/or a target time; bad input is a one-line UserError. */
export function chooseRestoreSet(sets: BackupSet[], id: string | undefined, target: Date | null): BackupSet {
  if (!sets.length) throw new UserError('there is no pgBackRest backup to restore', 'take one: /cluster backup full', 'precondition');
  const oldest = sets[0];
  if (target && target.getTime() < Date.parse(oldest.finishedAt)) {
    throw new UserError(
      `${target.toISOString()} is before the oldest restorable point ${oldest.finishedAt} (end of ${oldest.id})`,
      'choose a later time; /cluster backups shows the oldest restorable point',
    );
  }
  if (id !== undefined) {
    const e = sets.find((x) => x.id === id);
    if (!e) throw new UserError(`unknown backup id "${id.slice(0, 40)}"`, `/cluster backups lists them (newest: ${sets[sets.length - 1].id})`, 'not_found');
    if (target && target.getTime() < Date.parse(e.finishedAt)) {
      throw new UserError(`${target.toISOString()} is before ${e.id} finished (${e.finishedAt})`, 'choose a later time, or an older backup', 'bad_input');
    }
    return e;
  }
  if (!target) return sets[sets.length - 1];
  return [...sets].reverse().find((f) => Date.parse(f.finishedAt) <= target.getTime())!;
}

/**
 * The set a restore check restores, and the archive's end its replay must reach. `repo` restricts the
 * choice to that repository; without it an id is found in any repository, and "the newest" is taken
 * from the first repository that has one (repo1, the local one, restores fastest).
 */
export function restoreTarget(info: StanzaInfo, id: string | undefined, target: Date | null, repo: number | undefined): { set: BackupSet; archiveEnd: string | null } {
  const firstRepo = info.sets.find((x) => x.repo === Math.min(...info.sets.map((y) => y.repo)))?.repo;
  const pool = repo !== undefined ? info.sets.filter((x) => x.repo === repo) : id !== undefined ? info.sets : info.sets.filter((x) => x.repo === firstRepo);
  if (repo !== undefined && !pool.length) throw new UserError(`repo${repo} holds no backup yet`, 'take one: /cluster backup full (it goes to every configured repository)', 'precondition');
  const set = chooseRestoreSet(pool, id, target);
  // The live database's archive range says nothing about an earlier database's WAL (names start over).
  return { set, archiveEnd: set.earlierDatabase ? null : (info.archiveByRepo[set.repo]?.max ?? null) };
}

/** PostgreSQL's recovery_target_time form of a Date. */
const pgTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '+00');

export async function restoreCheck(
  config: Config,
  site: PgBackRestSite,
  set: BackupSet,
  target: Date | null,
  archiveMax: string | null,
  onStep: (s: string) => void,
): Promise<RestoreCheckResult> {
  const t0 = performance.now();
  const scratch = await ScratchInstance.create(config);
  try {
    onStep(`pgbackrest restore of ${set.id} from repo${set.repo} into a scratch instance on 127.0.0.1:${scratch.port}`);
    mkdirForPostgres(scratch.data, 0o700);
    const args = [`--pg1-path=${scratch.data}`, `--repo=${set.repo}`, `--set=${set.id}`, '--archive-mode=off'];
    if (target) args.push('--type=time', `--target=${pgTime(target)}`, '--target-action=promote');
    const r = await site.repo([...args, 'restore'], { timeoutMs: 6 * 3600_000 });
    if (r.code !== 0) throw new Error(`pgbackrest restore of ${set.id} failed: ${pgbackrestError(r)}`);
    // WAL comes from the set's own repository, read only; the copy never archives into it.
    const conf = pgbackrestPaths(config).conf;
    scratch.configureRecovery({
      restoreCommand: `pgbackrest --config=${conf} --stanza=${config.BACKUP_STANZA} --pg1-path=${scratch.data} --repo=${set.repo} archive-get %f "%p"`,
      targetTime: target,
    });
    onStep(target ? `replaying WAL up to ${target.toISOString()}` : 'replaying all archived WAL');
    await scratch.start();
    const [counts] = await scratch.query<{ usuarios: number; tli: number; recovering: boolean; seg: string; replayed: string }>(
      `SELECT (SELECT count(*)::int FROM proyecto.usuarios) AS usuarios, pg_walfile_name(pg_current_wal_lsn()) AS seg,
              (SELECT timeline_id FROM pg_control_checkpoint())::int AS tli, pg_is_in_recovery() AS recovering,
              pg_walfile_name((SELECT redo_lsn FROM pg_control_checkpoint())) AS replayed`,
    );
    if (counts.recovering) throw new Error('the restored copy is still in recovery after start');
    // Recovery ends quietly at the first segment it cannot fetch: short of the archive's end, that is a gap.
    const archiveEnd = target ? null : archiveMax;
    if (archiveEnd && counts.seg.slice(8) < archiveEnd.slice(8)) {
      throw new Error(`replay stopped in ${counts.seg} but the archive goes on to ${archiveEnd}: a WAL segment after ${counts.seg} is missing from the repository or unreadable`);
    }
    const restoreMs = Math.round(performance.now() - t0);
    const logs = await scratch.query<{ id: string; evento: string; fecha: Date }>('SELECT id, evento, fecha FROM proyecto.logs_replicacion ORDER BY id DESC LIMIT 1');
    return {
      backup: set.id,
      repo: set.repo,
      target: target?.toISOString() ?? null,
      restoreMs,
      usuarios: counts.usuarios,
      lastLog: logs[0] ? { id: Number(logs[0].id), evento: logs[0].evento, fecha: logs[0].fecha.toISOString() } : null,
      timeline: counts.tli,
      port: scratch.port,
      replayedTo: counts.seg,
      archiveEnd,
    };
  } finally {
    onStep('stopping and deleting the scratch instance');
    await scratch.destroy();
  }
}
