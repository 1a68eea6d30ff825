// The follow guarantee: a re-pointed replica counts as following only once it streams from the new
// primary ON THE NEW TIMELINE (pg_stat_wal_receiver) and the primary lists it as streaming
// (pg_stat_replication). A walreceiver that reconnects first streams the old timeline up to the
// switch point, stops, and starts again on the new one: "streaming" seen before that is not following.
import type { NodeConfig } from '../../config.js';
import type { Services } from '../../core/context.js';
import { describeDbError } from '../../db/errors.js';
import { errorLine } from '../../errors.js';
import { resolveUpstream } from '../inspect.js';

const POLL_MS = 100;

export interface FollowOutcome {
  node: string;
  ok: boolean;
  /** From the start of the wait (right after the re-point) to the first observation of the guarantee. */
  ms: number;
  /** "readonly streaming after 412 ms (from standby, timeline 2)" or "readonly not streaming yet: … — next step". */
  line: string;
  /** Why it is not following (the last thing seen), when it is not. */
  reason: string | null;
}

interface Seen {
  ok: boolean;
  reason: string;
  timeline: number | null;
}

interface ReceiverRow {
  rec: boolean;
  wr: { status: string; sender_host: string | null; sender_port: number | null; received_tli: number | null } | null;
}

/** One look at `replica` and `primary`: does the replica follow the primary on its current timeline? */
export async function followState(s: Services, replica: NodeConfig, primary: NodeConfig): Promise<Seen> {
  const [r, p] = await Promise.all([
    s.pools
      .query<ReceiverRow>(
        replica,
        `SELECT pg_is_in_recovery() AS rec,
                (SELECT row_to_json(w) FROM (SELECT status, sender_host, sender_port, received_tli FROM pg_stat_wal_receiver) w) AS wr`,
      )
      .then((x) => x.rows[0], (e: unknown) => describeDbError(e)),
    s.pools
      .query<{ rec: boolean; tli: number | null; state: string | null }>(
        primary,
        `SELECT pg_is_in_recovery() AS rec,
                CASE WHEN pg_is_in_recovery() THEN NULL ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS tli,
                (SELECT string_agg(state, ',') FROM pg_stat_replication WHERE application_name = $1) AS state`,
        [replica.name],
      )
      .then((x) => x.rows[0], (e: unknown) => describeDbError(e)),
  ]);
  const tli = typeof p === 'string' ? null : p.tli;
  if (typeof r === 'string') return { ok: false, reason: `${replica.name} does not answer (${r})`, timeline: tli };
  if (typeof p === 'string') return { ok: false, reason: `${primary.name} does not answer (${p})`, timeline: tli };
  if (p.rec) return { ok: false, reason: `${primary.name} is not a primary (in recovery)`, timeline: tli };
  if (!r.rec) return { ok: false, reason: `${replica.name} is not in recovery (not a replica)`, timeline: tli };
  const wr = r.wr;
  if (!wr) return { ok: false, reason: `no WAL receiver is running on ${replica.name}`, timeline: tli };
  const upstream = resolveUpstream(s.config.nodes, wr);
  if (upstream !== primary.name) return { ok: false, reason: `its WAL receiver is ${wr.status} from ${upstream ?? 'nowhere'}, not from ${primary.name}`, timeline: tli };
  if (wr.status !== 'streaming') return { ok: false, reason: `its WAL receiver is ${wr.status} (not streaming) from ${primary.name}`, timeline: tli };
  if (tli !== null && wr.received_tli !== tli) {
    return { ok: false, reason: `it still receives timeline ${wr.received_tli ?? '?'} from ${primary.name}, which is on timeline ${tli}`, timeline: tli };
  }
  const states = (p.state ?? '').split(',').filter(Boolean);
  if (!states.includes('streaming')) {
    return { ok: false, reason: `${primary.name}'s pg_stat_replication shows ${replica.name} as ${states.join(', ') || 'absent'}`, timeline: tli };
  }
  return { ok: true, reason: '', timeline: tli };
}

/** The newest FATAL/ERROR line of the node's log, masked and short, or null. */
export async function lastLogError(s: Services, node: NodeConfig): Promise<string | null> {
  const text = await s.runtime.logs(node, 80).catch(() => '');
  const line = text
    .split('\n')
    .filter((l) => /\b(FATAL|ERROR|PANIC)\b/.test(l))
    .at(-1);
  if (!line) return null;
  const msg = line.slice(line.search(/\b(FATAL|ERROR|PANIC)\b/)).trim();
  return s.masker.mask(msg.length > 220 ? `${msg.slice(0, 217)}…` : msg);
}

export interface FollowWaitOptions {
  /** Default FOLLOW_TIMEOUT_SECONDS. */
  timeoutMs?: number;
  /** The step a person takes when it does not follow in time (default `/cluster follow <node>`). */
  next?: string;
  /** When the re-point happened (performance.now()); the wait and its "after N ms" count from here. */
  since?: number;
}

/** Wait (bounded) until `replica` follows `primary`; an honest outcome either way. */
export async function waitFollowing(s: Services, replica: NodeConfig, primary: NodeConfig, opts: FollowWaitOptions = {}): Promise<FollowOutcome> {
  const timeoutMs = opts.timeoutMs ?? s.config.FOLLOW_TIMEOUT_SECONDS * 1000;
  const t0 = opts.since ?? performance.now();
  let seen: Seen = { ok: false, reason: 'not checked yet', timeline: null };
  for (;;) {
    seen = await followState(s, replica, primary).catch((e: unknown) => ({ ok: false, reason: errorLine(e), timeline: null }));
    const ms = Math.round(performance.now() - t0);
    if (seen.ok) {
      return { node: replica.name, ok: true, ms, reason: null, line: `${replica.name} streaming after ${ms} ms (from ${primary.name}, timeline ${seen.timeline ?? '?'})` };
    }
    if (ms >= timeoutMs) break;
    await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(1, timeoutMs - ms))));
  }
  const ms = Math.round(performance.now() - t0);
  const log = await lastLogError(s, replica);
  const reason = log ? `${seen.reason}; its log: ${log}` : seen.reason;
  const next = opts.next ?? `/cluster follow ${replica.name}`;
  s.log.warn({ node: replica.name, primary: primary.name, ms, reason }, 'replica not following the new primary in time');
  return {
    node: replica.name,
    ok: false,
    ms,
    reason,
    line: `${replica.name} not streaming yet after ${(ms / 1000).toFixed(1)} s: ${reason} — when the cause is fixed: ${next}`,
  };
}

/** Watches several re-pointed replicas at once, each from the moment it was re-pointed. */
export class FollowWatch {
  private readonly waits = new Map<string, Promise<FollowOutcome>>();

  constructor(
    private readonly s: Services,
    private readonly primary: NodeConfig,
  ) {}

  /** Start waiting for `replica` now (call right after its re-point). */
  add(replica: NodeConfig, next?: string): void {
    this.waits.set(replica.name, waitFollowing(this.s, replica, this.primary, { since: performance.now(), next }));
  }

  has(name: string): boolean {
    return this.waits.has(name);
  }

  result(name: string): Promise<FollowOutcome> {
    const w = this.waits.get(name);
    if (!w) throw new Error(`${name} was not re-pointed`);
    return w;
  }
}
