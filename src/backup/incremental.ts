// Incremental backups, as the seed defined them: the WAL archived since the previous backup,
// bundled (with timeline history files) and checked for gaps.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import type { BackupEntry, WalFile } from './catalog.js';
import { createTarGz, fileSize, mkdirForPostgres, sha256File } from './files.js';
import { freshFolder, type BackupDeps } from './full.js';
import { checkContinuity, HISTORY_NAME, parseSegment, segmentName, segmentsOf, WAL_SEGMENT_BYTES } from './wal.js';

const ARCHIVE_WAIT_MS = 30_000;

/**
 * Close the current WAL segment on the primary (pg_switch_wal) and wait until the archiver has
 * copied it, so a backup or restore sees every committed change. Returns the segment's name.
 */
export async function switchAndArchive(deps: BackupDeps): Promise<string> {
  const snap = await deps.snapshot();
  if (!snap.primary) {
    throw new UserError('no writable primary to close the current WAL segment on', 'bring the cluster up (/cluster status shows why) and try again', 'precondition');
  }
  const primary = deps.node(snap.primary);
  const r = await deps.pools.query<{ seg: string }>(primary, 'SELECT pg_walfile_name(pg_switch_wal()) AS seg');
  const seg = r.rows[0].seg;
  const file = `${deps.config.walArchiveDir}/${seg}`;
  const t0 = Date.now();
  while (!existsSync(file)) {
    if (Date.now() - t0 > ARCHIVE_WAIT_MS) {
      const a = await deps.pools.query<{ last_failed_wal: string | null }>(primary, 'SELECT last_failed_wal FROM pg_stat_archiver').catch(() => null);
      const failed = a?.rows[0]?.last_failed_wal;
      throw new UserError(
        `WAL segment ${seg} was not archived within ${ARCHIVE_WAIT_MS / 1000} s${failed ? ` (the archiver is failing on ${failed})` : ''}`,
        `check the WAL archiver in /cluster status and /cluster logs ${primary.name}`,
        'precondition',
      );
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  return seg;
}

export function archiveListing(archiveDir: string): string[] {
  return existsSync(archiveDir) ? readdirSync(archiveDir).filter((f) => !f.startsWith('.')) : [];
}

/** The first WAL position the next incremental must start at (the previous backup's end). */
export function incrementalStart(previous: BackupEntry): { position: number; timeline: number } {
  const last = parseSegment(previous.lastWal)!;
  // A full backup's last segment was still being written when it finished: bundle it again, complete.
  return { position: previous.kind === 'full' ? last.position : last.position + 1, timeline: last.timeline };
}

/** Returns null when no WAL was archived since the previous backup. */
export async function takeIncremental(deps: BackupDeps, previous: BackupEntry | undefined): Promise<BackupEntry | null> {
  const { config } = deps;
  if (!previous) {
    throw new UserError('there is no backup to add WAL to yet', 'take a full backup first: /cluster backup full', 'precondition');
  }
  const started = new Date();
  const t0 = performance.now();
  await switchAndArchive(deps);
  const listing = archiveListing(config.walArchiveDir);
  const segments = segmentsOf(listing);
  const from = incrementalStart(previous);
  const to = segments.length ? segments[segments.length - 1].position : -1;
  if (to < from.position) return null;
  const continuity = checkContinuity(segments, from.position, to, from.timeline);
  if (!continuity.ok) {
    throw new UserError(
      `gap in the WAL archive: segment ${continuity.firstMissing} is missing (${continuity.missingCount} missing between ${segmentName(from.timeline, from.position)} and ${segments[segments.length - 1].name})`,
      'WAL after the gap cannot be restored: take a full backup now (/cluster backup full)',
      'precondition',
    );
  }
  const names = [...continuity.segments.map((s) => s.name), ...listing.filter((f) => HISTORY_NAME.test(f)).sort()];
  const { id, dir } = freshFolder(config.backupDir, 'incr', started);
  mkdirForPostgres(dir);
  const wal: WalFile[] = [];
  for (const name of names) {
    const path = `${config.walArchiveDir}/${name}`;
    wal.push({ name, sizeBytes: fileSize(path), sha256: await sha256File(path) });
  }
  await createTarGz(`${dir}/wal.tar.gz`, config.walArchiveDir, names, config.BACKUP_COMPRESSION_LEVEL);
  writeFileSync(`${dir}/wal_manifest.json`, `${JSON.stringify({ id, wal }, null, 2)}\n`);
  const durationMs = Math.round(performance.now() - t0);
  const files = ['wal.tar.gz', 'wal_manifest.json'];
  const sizeBytes = files.reduce((s, f) => s + fileSize(`${dir}/${f}`), 0);
  const first = continuity.segments[0];
  const last = continuity.segments[continuity.segments.length - 1];
  return {
    id,
    kind: 'incremental',
    path: dir,
    node: 'wal archive',
    timeline: last.timeline,
    startLsn: lsnOfPosition(first.position),
    stopLsn: lsnOfPosition(last.position + 1),
    firstWal: first.name,
    lastWal: last.name,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    sizeBytes,
    durationMs,
    throughputBps: Math.round(sizeBytes / Math.max(durationMs / 1000, 0.001)),
    files,
    wal,
    verified: null,
    verifiedAt: null,
    verifyError: null,
  };
}

function lsnOfPosition(position: number): string {
  const bytes = BigInt(position) * BigInt(WAL_SEGMENT_BYTES);
  return `${(bytes >> 32n).toString(16).toUpperCase()}/${(bytes & 0xffffffffn).toString(16).toUpperCase()}`;
}
