// What /cluster reset does to the backups: keep them restorable (the default), or delete them all
// (`reset purge-backups`). A fresh cluster restarts WAL names at 000000010000000000000001, which the
// old archive already holds (the archive command never overwrites a different file): so the old
// archive moves aside to its own folder and the old backups remember it (BackupEntry.walDir).
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import type { Config } from '../config.js';
import { ofLiveCluster, type BackupEntry, type Catalog } from './catalog.js';
import { archiveListing } from './incremental.js';

const RETIRED_PREFIX = 'wal_archive.before-reset-';

export interface KeptBackups {
  /** Backups of the replaced cluster now restoring from `walDir`. */
  moved: number;
  walDir: string | null;
  walFiles: number;
}

export interface PurgedBackups {
  backups: number;
  walFiles: number;
  bytes: number;
}

/** Archives of clusters a reset replaced, oldest first. */
export function retiredArchives(config: Pick<Config, 'backupDir'>): string[] {
  if (!existsSync(config.backupDir)) return [];
  return readdirSync(config.backupDir).filter((f) => f.startsWith(RETIRED_PREFIX)).sort().map((f) => `${config.backupDir}/${f}`);
}

/** Move the live WAL archive aside for the old backups; a fresh, empty one (same owner and mode) takes its place. */
export function retireArchive(config: Pick<Config, 'backupDir' | 'walArchiveDir'>, catalog: Catalog, at = new Date()): KeptBackups {
  const live = ofLiveCluster(catalog.list());
  const files = archiveListing(config.walArchiveDir);
  if (!live.length && !files.length) return { moved: 0, walDir: null, walFiles: 0 };
  const walDir = `${config.backupDir}/${RETIRED_PREFIX}${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
  const st = statSync(config.walArchiveDir);
  renameSync(config.walArchiveDir, walDir);
  mkdirSync(config.walArchiveDir, { mode: st.mode & 0o7777 });
  chmodSync(config.walArchiveDir, st.mode & 0o7777);
  chownSync(config.walArchiveDir, st.uid, st.gid);
  for (const e of live) catalog.update(e.id, { walDir });
  return { moved: live.length, walDir, walFiles: files.length };
}

/** Delete every backup in the catalog, the live WAL archive's files and every retired archive. */
export function purgeBackups(config: Pick<Config, 'backupDir' | 'walArchiveDir'>, catalog: Catalog): PurgedBackups {
  const all: BackupEntry[] = catalog.list();
  const bytes = all.reduce((s, e) => s + e.sizeBytes, 0) + dirBytes(config.walArchiveDir) + retiredArchives(config).reduce((s, d) => s + dirBytes(d), 0);
  const files = archiveListing(config.walArchiveDir);
  const walFiles = files.length + retiredArchives(config).reduce((s, d) => s + archiveListing(d).length, 0);
  for (const e of all) rmSync(e.path, { recursive: true, force: true });
  for (const f of files) rmSync(`${config.walArchiveDir}/${f}`, { force: true });
  for (const d of retiredArchives(config)) rmSync(d, { recursive: true, force: true });
  catalog.remove(all.map((e) => e.id));
  return { backups: all.length, walFiles, bytes };
}

/** Bytes of the plain files in a folder (an archive is flat). */
function dirBytes(dir: string): number {
  return archiveListing(dir).reduce((s, f) => s + statSync(`${dir}/${f}`).size, 0);
}
