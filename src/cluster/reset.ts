// /cluster reset: the seed's "clean everything and start again", for lab and staging clusters.
// Every node's data goes; the cluster is initialised again as /cluster up does. It runs under the
// operation lock, so no failover or switchover can start meanwhile and the monitor holds its alerts
// (a planned outage is not "primary down"). Backups are handled by the caller's hooks (kept or purged).
import { readdirSync, statSync } from 'node:fs';
import type { NodeConfig } from '../config.js';
import type { Principal, Services } from '../core/context.js';
import type { LocalRuntime } from '../runtime/local.js';
import { busyReason, withOperationLock } from './failover/lock.js';
import { refusal } from './failover/operation.js';
import { afterClusterUp } from './ha-hooks.js';
import { clusterUp, type NodeOutcome } from './provision.js';

/** Why /cluster reset cannot run now, as "what — next step", or null. */
export function resetRefusal(s: Pick<Services, 'config'>): string | null {
  if (!s.config.RESET_ENABLED) {
    return '/cluster reset is turned off on this cluster (RESET_ENABLED=false) — on a lab or staging cluster set RESET_ENABLED=true in .env and restart the bot; keep it off in production';
  }
  return busyReason(s.config.home);
}

export interface NodeData {
  name: string;
  address: string;
  role: string;
  /** Bytes of data that will be deleted, or null when it could not be read (a stopped container). */
  bytes: number | null;
}

/** What a reset destroys: each node with the size of its data (databases and WAL; the folder when stopped). */
export async function nodeData(s: Services): Promise<NodeData[]> {
  const snap = await s.snapshot();
  return Promise.all(
    s.config.nodes.map(async (n) => {
      const st = snap.nodes.find((x) => x.name === n.name);
      const base = { name: n.name, address: `${n.host}:${n.port}`, role: st?.up ? st.role : 'down' };
      return { ...base, bytes: await dataBytes(s, n, st?.up ?? false) };
    }),
  );
}

async function dataBytes(s: Services, n: NodeConfig, up: boolean): Promise<number | null> {
  if (up) {
    const r = await s.pools
      .query<{ bytes: string }>(n, `SELECT ((SELECT sum(pg_database_size(oid)) FROM pg_database) + (SELECT coalesce(sum(size), 0) FROM pg_ls_waldir()))::bigint::text AS bytes`)
      .catch(() => null);
    if (r) return Number(r.rows[0].bytes);
  }
  return s.runtime.kind === 'local' ? treeBytes((s.runtime as LocalRuntime).paths(n).data) : null;
}

function treeBytes(dir: string): number | null {
  try {
    let total = 0;
    for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (e.isFile()) total += statSync(`${e.parentPath}/${e.name}`).size;
    }
    return total;
  } catch {
    return null;
  }
}

/** What the caller does with the backups once every node's data is gone (keep them restorable, or purge). */
export interface ResetBackupHooks<K> {
  /** Runs `fn` with no backup operation running and none able to start. */
  whileIdle<T>(what: string, fn: () => Promise<T>): Promise<T>;
  afterDelete(): K;
}

export interface ResetRequest {
  requestedBy: Principal;
  confirmedBy: Principal;
  purgeBackups: boolean;
  progress(line: string): void;
}

export interface ResetResult<K> {
  deleted: string[];
  backups: K;
  outcomes: NodeOutcome[];
  endpoint: string[];
  ms: number;
}

export async function resetCluster<K>(s: Services, req: ResetRequest, hooks: ResetBackupHooks<K>): Promise<ResetResult<K>> {
  const off = resetRefusal(s);
  if (off) throw refusal(off);
  const t0 = performance.now();
  return withOperationLock(s.config.home, 'reset', req.confirmedBy.display, () =>
    hooks.whileIdle('a cluster reset', async () => {
      const deleted: string[] = [];
      for (const n of s.config.nodes) {
        req.progress(`${n.name}: stopping and deleting its data…`);
        await s.runtime.destroy(n);
        // A fence marker of the old cluster must not keep a node of the new one read-only.
        await s.runtime.unfence(n);
        await s.pools.reset(n);
        deleted.push(n.name);
        req.progress(`${n.name}: data deleted`);
      }
      const backups = hooks.afterDelete();
      req.progress('initialising a fresh cluster (as /cluster up)…');
      const outcomes = await clusterUp({ ...s, progress: req.progress });
      const endpoint = await afterClusterUp(s);
      // The audit trail lives outside the nodes; copy all of it into the fresh logs_replicacion.
      await s.audit.remirrorAll();
      return { deleted, backups, outcomes, endpoint, ms: Math.round(performance.now() - t0) };
    }),
  );
}
