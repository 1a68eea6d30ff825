// Proof of recoverability: restore a full backup plus archived WAL (optionally to a point in time)
// into a scratch instance, start it, ask it real questions, then stop and delete it.
import { existsSync } from 'node:fs';
import { UserError } from '../errors.js';
import { walDirOf, type BackupEntry } from './catalog.js';
import { extractTar } from './files.js';
import type { BackupDeps } from './full.js';
import { archiveListing } from './incremental.js';
import { ScratchInstance } from './scratch.js';
import { checkContinuity, parseSegment, segmentOfLsn, segmentsOf } from './wal.js';

export interface RestoreCheckResult {
  backup: string;
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

/** Which full backup to restore for an id and/or a target time; bad input is a one-line UserError. */
export function chooseRestoreBackup(entries: BackupEntry[], id: string | undefined, target: Date | null): BackupEntry {
  const fulls = entries.filter((e) => e.kind === 'full');
  if (!fulls.length) throw new UserError('there is no full backup to restore', 'take one: /cluster backup full', 'precondition');
  const oldest = fulls[0];
  if (target && target.getTime() < Date.parse(oldest.finishedAt)) {
    throw new UserError(
      `${target.toISOString()} is before the oldest restorable point ${oldest.finishedAt} (end of ${oldest.id})`,
      'choose a later time; /cluster backups shows the oldest restorable point',
    );
  }
  if (id !== undefined) {
    const e = entries.find((x) => x.id === id);
    if (!e) throw new UserError(`unknown backup id "${id.slice(0, 40)}"`, `/cluster backups lists them (newest: ${entries[entries.length - 1].id})`, 'not_found');
    // An incremental is restored from the full backup before it, plus its WAL.
    const base = e.kind === 'full' ? e : [...fulls].reverse().find((f) => f.startedAt < e.startedAt);
    if (!base) throw new UserError(`${id} has no full backup before it to restore from`, 'choose a full backup from /cluster backups', 'precondition');
    if (target && target.getTime() < Date.parse(base.finishedAt)) {
      throw new UserError(`${target.toISOString()} is before ${base.id} finished (${base.finishedAt})`, 'choose a later time, or an older backup', 'bad_input');
    }
    return base;
  }
  if (!target) return fulls[fulls.length - 1];
  return [...fulls].reverse().find((f) => Date.parse(f.finishedAt) <= target.getTime())!;
}

export async function restoreCheck(deps: BackupDeps, entry: BackupEntry, target: Date | null, onStep: (s: string) => void): Promise<RestoreCheckResult> {
  for (const f of ['base.tar.gz', 'pg_wal.tar.gz']) {
    if (!existsSync(`${entry.path}/${f}`)) throw new UserError(`${f} is missing from ${entry.id}`, 'run /cluster verify on it, or choose another backup', 'precondition');
  }
  // Without a target time, every archived segment must be replayed: note where the archive ends.
  const walDir = walDirOf(entry, deps.config.walArchiveDir);
  const archived = segmentsOf(archiveListing(walDir));
  const archiveEnd = target ? null : (archived[archived.length - 1] ?? null);
  const t0 = performance.now();
  const scratch = await ScratchInstance.create(deps.config);
  try {
    onStep(`extracting ${entry.id} into a scratch instance on 127.0.0.1:${scratch.port}`);
    await extractTar(`${entry.path}/base.tar.gz`, scratch.data);
    await extractTar(`${entry.path}/pg_wal.tar.gz`, `${scratch.data}/pg_wal`);
    scratch.configureRecovery({ walDir, targetTime: target });
    onStep(target ? `replaying WAL up to ${target.toISOString()}` : 'replaying all archived WAL');
    await scratch.start();
    const [counts] = await scratch.query<{ usuarios: number; tli: number; recovering: boolean; lsn: string }>(
      `SELECT (SELECT count(*)::int FROM proyecto.usuarios) AS usuarios, pg_current_wal_lsn()::text AS lsn,
              (SELECT timeline_id FROM pg_control_checkpoint())::int AS tli, pg_is_in_recovery() AS recovering`,
    );
    const replayedTo = segmentOfLsn(counts.lsn, counts.tli);
    if (archiveEnd && replayedTo.position < archiveEnd.position) {
      // Recovery ends quietly at the first segment it cannot fetch: that is a gap, not a success.
      const gap = checkContinuity(archived, parseSegment(entry.lastWal)!.position, archiveEnd.position, entry.timeline);
      throw new Error(
        `replay stopped in ${replayedTo.name} but the archive goes on to ${archiveEnd.name}: ` +
          (gap.firstMissing ? `WAL segment ${gap.firstMissing} is missing from the archive` : 'a segment after it is unreadable'),
      );
    }
    const restoreMs = Math.round(performance.now() - t0);
    const logs = await scratch.query<{ id: string; evento: string; fecha: Date }>('SELECT id, evento, fecha FROM proyecto.logs_replicacion ORDER BY id DESC LIMIT 1');
    if (counts.recovering) throw new Error('the restored copy is still in recovery after start');
    return {
      backup: entry.id,
      target: target?.toISOString() ?? null,
      restoreMs,
      usuarios: counts.usuarios,
      lastLog: logs[0] ? { id: Number(logs[0].id), evento: logs[0].evento, fecha: logs[0].fecha.toISOString() } : null,
      timeline: counts.tli,
      port: scratch.port,
      replayedTo: replayedTo.name,
      archiveEnd: archiveEnd?.name ?? null,
    };
  } finally {
    onStep('stopping and deleting the scratch instance');
    await scratch.destroy();
  }
}
