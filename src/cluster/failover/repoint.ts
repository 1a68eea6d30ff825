// Making a node a streaming replica of the new primary: ALTER SYSTEM + reload when it can simply
// follow; pg_rewind when it holds WAL beyond the switch point; a fresh clone when rewind fails.
import type { NodeConfig } from '../../config.js';
import type { Services } from '../../core/context.js';
import { errorLine } from '../../errors.js';
import { lsnDiff } from '../lsn.js';
import { nodeIn } from '../wait.js';
import { waitFollowing, type FollowOutcome } from './follow-wait.js';
import { checkpoint } from './long-query.js';
import type { TimelineSwitch } from './promote.js';

const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Point a running replica at `primary` (no restart: primary_conninfo is reloadable since PostgreSQL 13). */
export async function followPrimary(s: Services, node: NodeConfig, primary: NodeConfig): Promise<void> {
  const conninfo = s.runtime.replicationConninfo(primary, node);
  await s.pools.query(node, `ALTER SYSTEM SET primary_conninfo = ${literal(conninfo)}`);
  await s.pools.query(node, 'SELECT pg_reload_conf()');
}

/** Bytes of WAL the replica holds beyond the switch point (> 0: it diverged and must be rewound). */
export async function divergence(s: Services, node: NodeConfig, sw: TimelineSwitch): Promise<number> {
  // The newest timeline the node is known to be on: what it streams, its last restartpoint, its min recovery point.
  const r = await s.pools.query<{ receive: string | null; replay: string | null; tli: number | null }>(
    node,
    `SELECT pg_last_wal_receive_lsn()::text AS receive, pg_last_wal_replay_lsn()::text AS replay,
            greatest((SELECT received_tli FROM pg_stat_wal_receiver), (SELECT timeline_id FROM pg_control_checkpoint()),
                     (SELECT min_recovery_end_timeline FROM pg_control_recovery())) AS tli`,
  );
  const row = r.rows[0];
  if (row.tli !== null && row.tli >= sw.timeline) return 0;
  return Math.max(0, lsnDiff(row.receive, sw.switchLsn) ?? 0, lsnDiff(row.replay, sw.switchLsn) ?? 0);
}

/** Wait (FOLLOW_TIMEOUT_SECONDS) until the node follows `primary` on its timeline; an honest sentence either way. */
export function waitStreaming(s: Services, node: NodeConfig, primary: NodeConfig, next?: string): Promise<FollowOutcome> {
  return waitFollowing(s, node, primary, { next });
}

/**
 * Stop → pg_rewind from `primary` → start; when rewind is impossible, a fresh clone. Calls `progress`
 * before the (slow) clone so the card can say so.
 */
export async function rewindOrReclone(s: Services, node: NodeConfig, primary: NodeConfig, progress: (line: string) => Promise<void>): Promise<string> {
  const { runtime } = s;
  await runtime.stop(node, 'fast');
  await s.pools.reset(node);
  let how: string;
  try {
    // PostgreSQL 15's pg_rewind reads the source's timeline from its control file, which a fresh
    // promotion updates only at the next checkpoint: without this it rewinds from the wrong ancestor.
    await checkpoint(s, primary);
    await runtime.rewind(node, primary, { timeoutMs: 10 * 60_000 });
    await runtime.start(node);
    how = `rewound with pg_rewind from ${primary.name}`;
  } catch (e) {
    await runtime.stop(node, 'immediate').catch(() => undefined);
    s.log.warn({ node: node.name, err: errorLine(e) }, 'pg_rewind failed; re-cloning');
    await progress(`pg_rewind of ${node.name} failed (${errorLine(e)}); re-cloning it from ${primary.name} with pg_basebackup…`);
    await runtime.destroy(node);
    await runtime.cloneReplica(node, primary, { timeoutMs: 60 * 60_000 });
    how = `re-cloned from ${primary.name} (pg_rewind failed: ${errorLine(e)})`;
  }
  if (!(await runtime.isRunning(node))) await runtime.start(node);
  return how;
}

export interface RepointResult {
  ok: boolean;
  line: string;
}

/** After a promotion: make a replica (or a stopped node) follow the new primary, rewinding if needed. The caller waits for it to stream (follow-wait.ts). */
export async function repointReplica(
  s: Services,
  node: NodeConfig,
  primary: NodeConfig,
  sw: TimelineSwitch,
  progress: (line: string) => Promise<void>,
): Promise<RepointResult> {
  const snap = await s.snapshot();
  const n = nodeIn(snap, node.name);
  if (!n.up) {
    return { ok: false, line: `${node.name} is down, not re-pointed — when it is back: /cluster rejoin ${node.name}` };
  }
  if (n.role !== 'replica') return { ok: false, line: `${node.name} is not a replica (${n.role}) — left alone; see /cluster status` };
  const ahead = await divergence(s, node, sw);
  let how: string;
  if (ahead > 0) {
    how = `${ahead} bytes past the switch point ${sw.switchLsn}: ${await rewindOrReclone(s, node, primary, progress)}`;
  } else {
    await followPrimary(s, node, primary);
    how = 'primary_conninfo changed and reloaded';
  }
  return { ok: true, line: how };
}
