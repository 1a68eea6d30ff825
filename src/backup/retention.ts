// Retention: decide (pure) what may go, then delete exactly that plan.
// Always kept: the newest full backup, every backup inside the window, every incremental after
// the oldest kept full, and every archived WAL segment from the oldest kept full's start on.
import { rmSync } from 'node:fs';
import type { BackupEntry } from './catalog.js';
import { HISTORY_NAME, parseSegment } from './wal.js';

export interface PrunePlan {
  cutoff: string;
  keep: BackupEntry[];
  remove: BackupEntry[];
  /** Archive files to delete (segments and .backup labels older than the oldest kept full). */
  wal: string[];
  /** The first WAL segment still needed (the oldest kept full's first segment), or null. */
  keepWalFrom: string | null;
  bytes: number;
}

export function planPrune(entries: BackupEntry[], archive: Array<{ name: string; sizeBytes: number }>, retentionDays: number, now: Date): PrunePlan {
  const cutoffMs = now.getTime() - retentionDays * 86_400_000;
  const fulls = entries.filter((e) => e.kind === 'full');
  const newestFull = fulls[fulls.length - 1];
  const keptFulls = fulls.filter((f) => f === newestFull || Date.parse(f.finishedAt) >= cutoffMs);
  const oldestKept = keptFulls[0];
  const keep = entries.filter((e) => {
    if (e.kind === 'full') return keptFulls.includes(e);
    // Incrementals chain from a full: those after the oldest kept full stay with it.
    return Date.parse(e.finishedAt) >= cutoffMs || (oldestKept !== undefined && e.startedAt >= oldestKept.startedAt);
  });
  const remove = entries.filter((e) => !keep.includes(e));
  const from = oldestKept ? parseSegment(oldestKept.firstWal) : null;
  const wal = from
    ? archive
        .filter(({ name }) => {
          if (HISTORY_NAME.test(name)) return false;
          const seg = parseSegment(name.slice(0, 24));
          return seg !== null && seg.position < from.position;
        })
        .map((a) => a.name)
        .sort()
    : [];
  const walBytes = archive.filter((a) => wal.includes(a.name)).reduce((s, a) => s + a.sizeBytes, 0);
  return {
    cutoff: new Date(cutoffMs).toISOString(),
    keep,
    remove,
    wal,
    keepWalFrom: oldestKept?.firstWal ?? null,
    bytes: remove.reduce((s, e) => s + e.sizeBytes, 0) + walBytes,
  };
}

/** Delete what the plan names, nothing else. */
export function applyPrune(plan: PrunePlan, archiveDir: string): void {
  for (const e of plan.remove) rmSync(e.path, { recursive: true, force: true });
  for (const name of plan.wal) rmSync(`${archiveDir}/${name}`, { force: true });
}
