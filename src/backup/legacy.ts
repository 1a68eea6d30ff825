// Backups of the engine before pgBackRest (pg_basebackup + tar, BACKUP_DIR/catalog.json): read only.
// They keep listing, marked "old engine", until retention deletes them once pgBackRest holds enough
// full backups of its own; nothing of them is silently lost. Restore them by hand (docs/backups.md).
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Config } from '../config.js';

export interface LegacyBackup {
  id: string;
  kind: string;
  path: string;
  node: string;
  timeline: number;
  startedAt: string;
  finishedAt: string;
  sizeBytes: number;
  durationMs: number;
  verified: boolean | null;
}

const catalogFile = (config: Pick<Config, 'backupDir'>) => `${config.backupDir}/catalog.json`;

export function legacyBackups(config: Pick<Config, 'backupDir'>): LegacyBackup[] {
  const file = catalogFile(config);
  if (!existsSync(file)) return [];
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { backups?: LegacyBackup[] };
    return (parsed.backups ?? []).filter((b) => typeof b.id === 'string').sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  } catch {
    return [];
  }
}

/** Delete these old-engine backups (their folders), and the old catalog and WAL archive once none is left. */
export function removeLegacy(config: Pick<Config, 'backupDir'>, ids: string[]): number {
  const all = legacyBackups(config);
  const gone = all.filter((b) => ids.includes(b.id));
  for (const b of gone) if (b.path.startsWith(`${config.backupDir}/`)) rmSync(b.path, { recursive: true, force: true });
  const left = all.filter((b) => !ids.includes(b.id));
  if (left.length) {
    writeFileSync(catalogFile(config), `${JSON.stringify({ version: 1, backups: left }, null, 2)}\n`);
  } else {
    rmSync(catalogFile(config), { force: true });
    rmSync(`${config.backupDir}/wal_archive`, { recursive: true, force: true });
  }
  return gone.reduce((s, b) => s + b.sizeBytes, 0);
}
