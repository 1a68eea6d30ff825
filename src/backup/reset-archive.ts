// What /cluster reset does to the backups: keep them (the default) or delete them all
// (`reset purge-backups`). Kept: the fresh cluster is a new database in the same stanza
// (stanza-upgrade adds it to the repository's history), so the old backups stay listed and restorable.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import type { Config } from '../config.js';
import { legacyBackups, removeLegacy } from './legacy.js';

export interface PurgedBackups {
  backups: number;
  bytes: number;
}

/** Bytes of every file under a folder. */
export function treeBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    total += e.isDirectory() ? treeBytes(p) : statSync(p).size;
  }
  return total;
}

/** Delete the stanza's backups and archive from the repository, and every old-engine backup. */
export function purgeBackups(config: Pick<Config, 'backupDir' | 'walArchiveDir' | 'BACKUP_STANZA'>, setCount: number): PurgedBackups {
  const dirs = ['backup', 'archive'].map((d) => `${config.walArchiveDir}/${d}/${config.BACKUP_STANZA}`);
  const legacy = legacyBackups(config);
  const bytes = dirs.reduce((s, d) => s + treeBytes(d), 0) + legacy.reduce((s, b) => s + b.sizeBytes, 0);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  removeLegacy(config, legacy.map((b) => b.id));
  return { backups: setCount + legacy.length, bytes };
}
