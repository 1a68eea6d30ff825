// Catch up before promoting (issue 17): when a surviving replica has received more WAL than the
// failover target on the same timeline, the target first streams from it (cascading replication)
// until it has everything that replica has — then it is fenced/promoted with nothing lost among the
// nodes that are still up. Without this, promoting the target discards WAL a running node holds.
import type { NodeConfig } from '../../config.js';
import type { Services } from '../../core/context.js';
import { errorLine } from '../../errors.js';
import type { ClusterSnapshot, NodeStatus } from '../inspect.js';
import { formatBytes, lsnDiff } from '../lsn.js';
import { lastLogError } from './follow-wait.js';
import { followPrimary } from './repoint.js';

const POLL_MS = 100;
const PROGRESS_EVERY_MS = 1000;

/** What the card promises: `target` streams `bytes` (fromLsn → toLsn) from `from` before promotion. */
export interface CatchupPlan {
  from: string;
  fromLsn: string;
  toLsn: string;
  bytes: number;
}

export interface CatchupOutcome {
  ok: boolean;
  from: string;
  /** Where the target started, what it had to reach, what it reached (received). */
  startLsn: string | null;
  wantLsn: string;
  reachedLsn: string | null;
  /** WAL still missing on the target (0 when ok). */
  shortBytes: number;
  ms: number;
  line: string;
}

/** A replica's newest WAL: what it received, or what it replayed when that is further. */
export function walPosition(n: Pick<NodeStatus, 'receiveLsn' | 'replayLsn'>): string | null {
  const d = lsnDiff(n.receiveLsn, n.replayLsn);
  if (d === null) return n.receiveLsn ?? n.replayLsn;
  return d >= 0 ? n.receiveLsn : n.replayLsn;
}

/** The most advanced surviving replica that is ahead of the target, as a plan; else null. */
export function planCatchup(snap: ClusterSnapshot, target: NodeStatus, oldPrimary: string | null): CatchupPlan | null {
  const from = walPosition(target);
  if (!from) return null;
  let best: { n: NodeStatus; pos: string; bytes: number } | null = null;
  for (const n of snap.nodes) {
    if (n.name === target.name || n.name === oldPrimary || !n.up || n.role !== 'replica' || n.fenced) continue;
    // No timeline filter: a replica's timeline reads from its last restartpoint once its upstream is
    // gone, which lags. A source whose WAL diverged from the target's simply cannot be streamed: the
    // catch-up then fails, nothing is promoted, and the person is asked again.
    const pos = walPosition(n);
    const bytes = lsnDiff(pos, from) ?? 0;
    if (pos && bytes > 0 && (!best || bytes > best.bytes)) best = { n, pos, bytes };
  }
  return best ? { from: best.n.name, fromLsn: from, toLsn: best.pos, bytes: best.bytes } : null;
}

interface Position {
  receive: string | null;
  replay: string | null;
  paused: boolean;
}

async function positionOf(s: Services, node: NodeConfig): Promise<Position> {
  const r = await s.pools.query<Position>(
    node,
    `SELECT pg_last_wal_receive_lsn()::text AS receive, pg_last_wal_replay_lsn()::text AS replay,
            CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END AS paused`,
  );
  return r.rows[0];
}

/**
 * Re-point `target` at `source` and wait (bounded) until it has received all WAL `source` has and
 * replayed up to what `source` replayed. Promotion replays whatever the target received, so after
 * this nothing `source` holds is lost. Never throws for a slow or failing catch-up: the outcome says
 * what was reached, and the caller asks the person again.
 */
export async function catchUp(
  s: Services,
  target: NodeConfig,
  source: NodeConfig,
  timeoutMs: number,
  progress: (line: string) => Promise<void> = async () => undefined,
): Promise<CatchupOutcome> {
  const t0 = performance.now();
  const want = await positionOf(s, source);
  const wantLsn = walPosition({ receiveLsn: want.receive, replayLsn: want.replay });
  const start = await positionOf(s, target);
  const startLsn = walPosition({ receiveLsn: start.receive, replayLsn: start.replay });
  if (!wantLsn) throw new Error(`${source.name} reports no WAL position — cannot catch up from it`);
  const total = Math.max(0, lsnDiff(wantLsn, startLsn) ?? 0);
  await followPrimary(s, target, source);
  let now: Position = start;
  let lastShown = 0;
  let failure: string | null = null;
  for (;;) {
    try {
      now = await positionOf(s, target);
      failure = null;
    } catch (e) {
      failure = `${target.name} does not answer (${errorLine(e)})`;
    }
    const received = walPosition({ receiveLsn: now.receive, replayLsn: now.replay });
    const short = Math.max(0, lsnDiff(wantLsn, received) ?? total);
    const replayed = (lsnDiff(now.replay, want.replay) ?? -1) >= 0;
    const ms = Math.round(performance.now() - t0);
    const base = { from: source.name, startLsn, wantLsn, reachedLsn: received, ms };
    if (!failure && short === 0 && replayed) {
      return { ...base, ok: true, shortBytes: 0, line: `${target.name} caught up ${formatBytes(total)} from ${source.name} in ${ms} ms: received ${startLsn ?? '?'} → ${wantLsn}, replayed to ${now.replay ?? '?'}` };
    }
    if (ms >= timeoutMs) {
      const why = failure ?? (now.paused ? `replay is paused on ${target.name} (SELECT pg_wal_replay_resume() there)` : await receiverReason(s, target, source));
      return {
        ...base,
        ok: false,
        shortBytes: short,
        line: `${target.name} did not catch up from ${source.name} within ${(timeoutMs / 1000).toFixed(0)} s: reached ${received ?? '?'} (replayed ${now.replay ?? '?'}) of ${wantLsn}, ${formatBytes(short)} short — ${why}`,
      };
    }
    if (performance.now() - lastShown >= PROGRESS_EVERY_MS) {
      lastShown = performance.now();
      await progress(`${formatBytes(total - short)} of ${formatBytes(total)} from ${source.name} (${received ?? '?'} → ${wantLsn})`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function receiverReason(s: Services, target: NodeConfig, source: NodeConfig): Promise<string> {
  const r = await s.pools
    .query<{ status: string | null }>(target, 'SELECT (SELECT status FROM pg_stat_wal_receiver) AS status')
    .then((x) => x.rows[0].status, () => null);
  const log = await lastLogError(s, target);
  const state = r ? `its WAL receiver is ${r}` : `no WAL receiver is running on ${target.name} (streaming from ${source.name} did not start)`;
  return log ? `${state}; its log: ${log}` : state;
}
