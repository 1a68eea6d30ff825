// Retention by count of full backups (pgBackRest's repo1-retention-full): what `expire` will remove,
// decided from the repository's listing before asking for confirmation. A diff or incr goes with
// the full it depends on; the WAL each kept backup needs stays (pgBackRest expires the rest).
// Old-engine backups go once pgBackRest holds that many full backups of its own.
import type { LegacyBackup } from './legacy.js';
import type { BackupSet } from './pgbackrest/info.js';

export interface PrunePlan {
  retentionFull: number;
  keep: BackupSet[];
  remove: BackupSet[];
  /** Old-engine backups to delete (their folders and, once none is left, the old WAL archive). */
  legacy: LegacyBackup[];
  /** The oldest backup kept: WAL from its start on stays. */
  keepWalFrom: string | null;
  bytes: number;
}

/** The full backup a set depends on (itself for a full). */
function rootOf(set: BackupSet, byId: Map<string, BackupSet>): string {
  let s = set;
  while (s.prior && byId.has(s.prior)) s = byId.get(s.prior)!;
  return s.id;
}

export function planExpire(sets: BackupSet[], legacy: LegacyBackup[], retentionFull: number): PrunePlan {
  const byId = new Map(sets.map((s) => [s.id, s]));
  const fulls = sets.filter((s) => s.kind === 'full');
  const keptFulls = new Set(fulls.slice(-retentionFull).map((f) => f.id));
  const keep = sets.filter((s) => keptFulls.has(rootOf(s, byId)));
  const remove = sets.filter((s) => !keep.includes(s));
  const oldLegacy = fulls.length >= retentionFull ? legacy : [];
  return {
    retentionFull,
    keep,
    remove,
    legacy: oldLegacy,
    keepWalFrom: keep[0]?.walStart ?? null,
    bytes: remove.reduce((s, x) => s + x.repoBytes, 0) + oldLegacy.reduce((s, x) => s + x.sizeBytes, 0),
  };
}
