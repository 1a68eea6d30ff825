// Full backups: pg_basebackup (tar, gzip, WAL streamed, manifest) from a healthy replica by default.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { Config, NodeConfig } from '../config.js';
import type { ClusterSnapshot, NodeStatus } from '../cluster/inspect.js';
import type { NodePools } from '../db/pools.js';
import { UserError } from '../errors.js';
import { backupStamp, type BackupEntry } from './catalog.js';
import { fileSize, mkdirForPostgres } from './files.js';
import type { BackupTools } from './tools.js';
import { segmentOfLsn } from './wal.js';

export interface BackupDeps {
  config: Config;
  /** How pg_basebackup reaches a node: the runtime (native) or this host's tools (Patroni). */
  tools: BackupTools;
  pools: NodePools;
  snapshot(): Promise<ClusterSnapshot>;
  node(name: string): NodeConfig;
}

export interface FullProgress {
  node: string;
  percent: number;
  doneKb: number;
  totalKb: number;
}

// `error` set on a node that is up: the bot only knows it second-hand (e.g. from Patroni, not SQL).
const healthyReplica = (n: NodeStatus) => n.role === 'replica' && n.up && n.streaming && !n.fenced && !n.replayPaused && !n.error;

/**
 * Where to take the backup from, and why; or the reason no node can serve one.
 * Among healthy replicas the least lagged wins; on a tie a no-failover node, so the failover
 * candidate is spared the read load.
 */
export function chooseBackupSource(snap: ClusterSnapshot, prefer: 'replica' | 'primary'): { node: string; reason: string } | { error: string } {
  const replicas = snap.nodes.filter(healthyReplica).sort((a, b) => (a.lagBytes ?? 0) - (b.lagBytes ?? 0) || Number(a.failover) - Number(b.failover));
  if (prefer === 'replica' && replicas.length) return { node: replicas[0].name, reason: `healthy streaming replica (lag ${replicas[0].lagBytes ?? 0} B)` };
  if (snap.primary) {
    return { node: snap.primary, reason: prefer === 'primary' ? 'BACKUP_FROM=primary' : 'no healthy streaming replica, so the primary' };
  }
  const down = snap.nodes.map((n) => `${n.name}: ${n.up ? n.role : (n.error ?? 'down')}`).join(', ');
  return { error: `no node can serve a backup (${down})` };
}

interface ManifestWalRange {
  Timeline: number;
  'Start-LSN': string;
  'End-LSN': string;
}

export async function takeFullBackup(deps: BackupDeps, onProgress: (p: FullProgress) => void): Promise<BackupEntry> {
  const { config, tools } = deps;
  const snap = await deps.snapshot();
  const choice = chooseBackupSource(snap, config.BACKUP_FROM);
  if ('error' in choice) throw new UserError(choice.error, 'start the nodes (/cluster up) and try again', 'precondition');
  const source = deps.node(choice.node);
  // A standby's backup starts at its last restartpoint, which follows the primary's checkpoints.
  if (snap.primary && snap.primary !== source.name) await deps.pools.query(deps.node(snap.primary), 'CHECKPOINT').catch(() => undefined);

  const started = new Date();
  const { id, dir } = freshFolder(config.backupDir, 'full', started);
  mkdirForPostgres(dir);
  // As the runtime's nodes reach each other (inside the container network with RUNTIME=docker),
  // or as the bot reaches the node (Patroni).
  const conninfo = tools.conninfo(source);
  const t0 = performance.now();
  const result = await tools.basebackup(
    source,
    ['-D', dir, '-d', conninfo, '-F', 't', `--compress=gzip:${config.BACKUP_COMPRESSION_LEVEL}`, '--wal-method=stream', '--checkpoint=fast',
      '--manifest-checksums=CRC32C', '--progress', '--verbose', '--no-password', '--label', `clusterbot ${id}`],
    { timeoutMs: 6 * 3600_000, onOutput: (chunk) => reportProgress(chunk, source.name, onProgress) },
  );
  const durationMs = Math.round(performance.now() - t0);
  if (result.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    const detail = result.stderr.split('\n').filter((l) => /error|FATAL|could not/i.test(l)).slice(-2).join(' | ') || result.stderr.trim().split('\n').at(-1);
    throw new Error(`pg_basebackup from ${source.name} failed (exit ${result.code}): ${detail}`);
  }
  const manifest = JSON.parse(readFileSync(`${dir}/backup_manifest`, 'utf8')) as { 'WAL-Ranges': ManifestWalRange[] };
  const ranges = manifest['WAL-Ranges'];
  const first = ranges[0];
  const last = ranges[ranges.length - 1];
  const files = readdirSync(dir).sort();
  const sizeBytes = files.reduce((s, f) => s + fileSize(`${dir}/${f}`), 0);
  return {
    id,
    kind: 'full',
    path: dir,
    node: source.name,
    timeline: last.Timeline,
    startLsn: first['Start-LSN'],
    stopLsn: last['End-LSN'],
    firstWal: segmentOfLsn(first['Start-LSN'], first.Timeline).name,
    lastWal: segmentOfLsn(last['End-LSN'], last.Timeline).name,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    sizeBytes,
    durationMs,
    throughputBps: Math.round(sizeBytes / Math.max(durationMs / 1000, 0.001)),
    files,
    verified: null,
    verifiedAt: null,
    verifyError: null,
  };
}

/** `<backupDir>/<full|incr>/<stamp>`; a second backup in the same second gets a suffix. */
export function freshFolder(backupDir: string, kind: 'full' | 'incr', at: Date): { id: string; dir: string } {
  const stamp = backupStamp(at);
  for (let n = 1; ; n++) {
    const name = n === 1 ? stamp : `${stamp}-${n}`;
    const dir = `${backupDir}/${kind}/${name}`;
    if (!existsSync(dir)) return { id: `${kind}-${name}`, dir };
  }
}

function reportProgress(chunk: string, node: string, onProgress: (p: FullProgress) => void): void {
  // pg_basebackup --progress: "  23145/30210 kB (76%), 0/1 tablespace" (carriage returns between updates)
  const matches = [...chunk.matchAll(/(\d+)\/(\d+) kB \((\d+)%\)/g)];
  const m = matches.at(-1);
  if (m) onProgress({ node, doneKb: Number(m[1]), totalKb: Number(m[2]), percent: Number(m[3]) });
}
