// Disk usage of the filesystems that hold node data, backups and the WAL archive (df's arithmetic).
import { lstatSync } from 'node:fs';
import { statfs, stat } from 'node:fs/promises';
import type { Config } from '../config.js';
import type { Runtime } from '../runtime/runtime.js';
import { LocalRuntime } from '../runtime/local.js';

export interface DiskUsage {
  /** Every watched folder on this filesystem, e.g. "data of primary", "WAL archive". */
  labels: string[];
  paths: string[];
  /** Node names whose data lives here (empty for the archive and backups). */
  nodes: string[];
  usedPercent: number;
  availBytes: number;
  totalBytes: number;
}

export function watchedDirs(config: Config, runtime: Runtime): Array<{ label: string; path: string; node?: string }> {
  const dirs: Array<{ label: string; path: string; node?: string }> = [];
  // Docker volumes are not visible from here; only the local runtime has data folders on this host.
  if (runtime instanceof LocalRuntime) {
    for (const n of config.nodes) {
      const data = runtime.paths(n).data;
      dirs.push({ label: `data of ${n.name}`, path: data, node: n.name });
      // A WAL disk of its own (pg_wal a link to another filesystem): its own line, since a full one stops the node.
      if (isLink(`${data}/pg_wal`)) dirs.push({ label: `WAL (pg_wal) of ${n.name}`, path: `${data}/pg_wal`, node: n.name });
    }
  }
  dirs.push({ label: 'WAL archive', path: config.walArchiveDir }, { label: 'backups', path: config.backupDir });
  return dirs;
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** One entry per filesystem; folders that do not exist (yet) are left out. */
export async function diskUsage(dirs: Array<{ label: string; path: string; node?: string }>): Promise<DiskUsage[]> {
  const byDevice = new Map<number, DiskUsage>();
  for (const d of dirs) {
    try {
      const [st, fs] = await Promise.all([stat(d.path), statfs(d.path)]);
      let entry = byDevice.get(st.dev);
      if (!entry) {
        const used = (fs.blocks - fs.bfree) * fs.bsize;
        const avail = fs.bavail * fs.bsize;
        entry = {
          labels: [],
          paths: [],
          nodes: [],
          usedPercent: used + avail > 0 ? (used / (used + avail)) * 100 : 0,
          availBytes: avail,
          totalBytes: fs.blocks * fs.bsize,
        };
        byDevice.set(st.dev, entry);
      }
      entry.labels.push(d.label);
      entry.paths.push(d.path);
      if (d.node) entry.nodes.push(d.node);
    } catch {
      // Missing (not created yet) or unreachable: nothing to measure.
    }
  }
  return [...byDevice.values()];
}
