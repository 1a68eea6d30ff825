// The backup catalog: one JSON file under BACKUP_DIR, written atomically (temp name + rename).
// It is the index of what exists on disk; the backups themselves are the folders it points to.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export type BackupKind = 'full' | 'incremental';

export interface WalFile {
  name: string;
  sizeBytes: number;
  sha256: string;
}

export interface BackupEntry {
  id: string;
  kind: BackupKind;
  /** Folder of the backup files (absolute). */
  path: string;
  /** The node it was taken from (full), or the archive (incremental). */
  node: string;
  timeline: number;
  startLsn: string | null;
  stopLsn: string | null;
  /** First and last WAL segment the backup covers (full: from its own pg_wal; incremental: the bundle). */
  firstWal: string;
  lastWal: string;
  startedAt: string;
  finishedAt: string;
  sizeBytes: number;
  durationMs: number;
  /** Bytes per second of the finished backup on disk. */
  throughputBps: number;
  files: string[];
  /** Incremental only: each bundled segment with its checksum. */
  wal?: WalFile[];
  verified: boolean | null;
  verifiedAt: string | null;
  verifyError: string | null;
  /**
   * Set on the backups of a cluster that /cluster reset replaced: the folder its WAL archive was moved
   * to (a fresh cluster restarts WAL names at 000000010000000000000001, so the two never share one).
   */
  walDir?: string;
}

/** The WAL archive a backup restores from: its own retired one after a reset, else the live one. */
export const walDirOf = (e: Pick<BackupEntry, 'walDir'>, liveArchive: string) => e.walDir ?? liveArchive;

/** Backups of the cluster running now (not of one a reset replaced). */
export const ofLiveCluster = (entries: BackupEntry[]) => entries.filter((e) => e.walDir === undefined);

interface CatalogFile {
  version: 1;
  backups: BackupEntry[];
}

export class Catalog {
  constructor(readonly file: string) {}

  /** Every entry, oldest first. */
  list(): BackupEntry[] {
    if (!existsSync(this.file)) return [];
    const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as CatalogFile;
    return [...parsed.backups].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  get(id: string): BackupEntry | undefined {
    return this.list().find((e) => e.id === id);
  }

  add(entry: BackupEntry): void {
    this.write([...this.list().filter((e) => e.id !== entry.id), entry]);
  }

  update(id: string, patch: Partial<BackupEntry>): BackupEntry {
    const all = this.list();
    const i = all.findIndex((e) => e.id === id);
    if (i < 0) throw new Error(`backup ${id} is not in the catalog`);
    all[i] = { ...all[i], ...patch };
    this.write(all);
    return all[i];
  }

  remove(ids: string[]): void {
    this.write(this.list().filter((e) => !ids.includes(e.id)));
  }

  private write(backups: BackupEntry[]): void {
    const tmp = `${this.file}.tmp`;
    const body: CatalogFile = { version: 1, backups };
    writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o640 });
    renameSync(tmp, this.file);
  }
}

/** `full-20261125T194700Z`: sortable, safe in paths and chat. */
export function backupStamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}
