// Switchover and failover through Patroni: choose a candidate (a reason string when none fits),
// ask Patroni, then observe the outcome ourselves — /cluster names the candidate as leader AND
// the candidate accepts a real write — within an honest timeout.
import type { Services } from '../core/context.js';
import type { CommandContext } from '../core/command.js';
import type { Reply } from '../chat/reply.js';
import { formatBytes } from '../cluster/lsn.js';
import { UserError } from '../errors.js';
import { describeAnswer, isLeader, type PatroniAnswer, type PatroniMember } from './client.js';
import { endpointToLeader, holdEndpoint, releaseEndpoint } from './endpoint.js';
import { followersOf, waitMembersFollow, type MemberFollow } from './follow.js';
import { memberFor, nodeFor, patroniClient, patroniSnapshot, type PatroniSnapshot } from './snapshot.js';

export type LeaderChange = 'switchover' | 'failover';

export interface Plan {
  kind: LeaderChange;
  leader: PatroniMember | null;
  /** The leader answers (SQL, or its own REST API): /cluster keeps a dead leader until its TTL. */
  leaderAlive: boolean;
  candidate: PatroniMember;
  /** Bytes the candidate is behind (Patroni's figure, SQL's when the bot can read it). */
  lagBytes: number | null;
  paused: boolean;
  snap: PatroniSnapshot;
}

const RUNNING = new Set(['running', 'streaming']);

/** A plan, or the reason (one sentence) why this change cannot happen now. */
export async function planLeaderChange(services: Services, kind: LeaderChange, target: string | undefined, force: boolean): Promise<Plan | string> {
  const snap = await patroniSnapshot(services);
  const p = snap.patroni;
  if (p.error || !p.raw) return `Patroni cannot be reached: ${p.error ?? 'no answer'}`;
  const members = p.raw.members;
  const leader = members.find(isLeader) ?? null;
  const leaderAlive = leader !== null && RUNNING.has(leader.state) && (await answers(services, snap, leader));
  if (kind === 'switchover' && !leaderAlive) {
    return `a switchover needs a running leader and ${leader ? `${leader.name} does not answer` : 'the cluster has none'} — use /cluster failover`;
  }
  const lagOf = (m: PatroniMember): number | null => {
    const node = nodeFor(m, services.config.nodes);
    const sqlLag = node ? snap.nodes.find((n) => n.name === node.name)?.lagBytes : null;
    return sqlLag ?? (typeof m.lag === 'number' ? m.lag : null);
  };
  let candidate: PatroniMember | undefined;
  if (target) {
    const node = services.node(target);
    candidate = memberFor(node, members);
    if (!candidate) return `${target} is not a Patroni member (members: ${members.map((m) => m.name).join(', ')})`;
    if (isLeader(candidate)) return `${target} is already the leader — nothing to do`;
    if (candidate.tags?.nofailover) return `${target} is tagged nofailover in Patroni and is never promoted`;
    if (!RUNNING.has(candidate.state)) return `${target} is ${candidate.state || 'not running'}, so Patroni would refuse it`;
  } else {
    const eligible = members.filter((m) => !isLeader(m) && !m.tags?.nofailover && RUNNING.has(m.state));
    eligible.sort((a, b) => (lagOf(a) ?? Number.MAX_SAFE_INTEGER) - (lagOf(b) ?? Number.MAX_SAFE_INTEGER));
    candidate = eligible[0];
    if (!candidate) return `no running replica without the nofailover tag can take over (${members.map((m) => `${m.name}: ${m.role} ${m.state}`).join(', ')})`;
  }
  const lagBytes = lagOf(candidate);
  const limit = services.config.FAILOVER_MAX_LAG_BYTES;
  if (!force && lagBytes !== null && lagBytes > limit) {
    return `${candidate.name} is ${formatBytes(lagBytes)} behind, more than FAILOVER_MAX_LAG_BYTES (${formatBytes(limit)}) — add force to accept losing that data`;
  }
  return { kind, leader, leaderAlive, candidate, lagBytes, paused: p.paused, snap };
}

async function answers(services: Services, snap: PatroniSnapshot, m: PatroniMember): Promise<boolean> {
  const node = nodeFor(m, services.config.nodes);
  if (node) return snap.nodes.find((n) => n.name === node.name)?.up === true;
  if (!m.api_url) return false;
  return patroniClient(services)
    .node(m.api_url)
    .then((own) => RUNNING.has(own.state))
    .catch(() => false);
}

export interface Outcome {
  ok: boolean;
  /** Milliseconds from the request until the candidate accepted a write. */
  writableMs: number | null;
  patroni: PatroniAnswer | null;
  newLeader: string | null;
  /** Old leader back as a streaming replica (switchover), or why not yet. */
  oldLeader: string | null;
  /** Every other member streaming from the new leader, or why not yet (FOLLOW_TIMEOUT_SECONDS). */
  followers: MemberFollow[];
  /** The PgBouncer write endpoint: held during the change, then on the new leader (null: none running). */
  endpoint: { ok: boolean; line: string } | null;
  message: string;
}

/** One leader change at a time, in this bot. */
export async function runLeaderChange(ctx: CommandContext, plan: Plan): Promise<Outcome> {
  const { services } = ctx;
  if (services.patroni.leaderChange) {
    throw new UserError(`a ${String(services.patroni.leaderChange)} is already in progress`, 'wait for it to finish, then look at /cluster status', 'busy');
  }
  services.patroni.leaderChange = plan.kind;
  try {
    return await execute(ctx, plan);
  } finally {
    services.patroni.leaderChange = null;
  }
}

async function execute(ctx: CommandContext, plan: Plan): Promise<Outcome> {
  const { services } = ctx;
  // Clients of the write endpoint wait instead of failing while the leader moves (the old one still runs).
  const held = plan.leaderAlive ? await holdEndpoint(services) : null;
  const outcome = await change(ctx, plan).catch(async (e: unknown) => {
    await releaseEndpoint(services);
    throw e;
  });
  // Not repointed (no change observed, a leader outside CLUSTER_NODES, a failed RELOAD): never leave clients held.
  if (!outcome.endpoint?.ok) await releaseEndpoint(services);
  if (!outcome.ok && held) return { ...outcome, endpoint: { ok: false, line: `resumed on ${plan.leader?.name ?? 'the old leader'}; the watcher repoints it when it sees a new leader` } };
  if (held && !held.ok && outcome.endpoint) return { ...outcome, endpoint: { ok: false, line: `${held.line}; ${outcome.endpoint.line}` } };
  return outcome;
}

async function change(ctx: CommandContext, plan: Plan): Promise<Outcome> {
  const { services } = ctx;
  const client = patroniClient(services);
  const timeoutMs = services.config.PATRONI_ACTION_TIMEOUT_SECONDS * 1000;
  const started = performance.now();
  const body = plan.kind === 'switchover' ? { leader: plan.leader!.name, candidate: plan.candidate.name } : { candidate: plan.candidate.name };
  const abort = new AbortController();
  let answer: PatroniAnswer | null = null;
  const request = client.postAny(`/${plan.kind}`, body, timeoutMs).then(
    (a) => {
      answer = a;
      // 503 "… status unknown" means Patroni stopped watching, not that it failed: keep polling.
      if (a.status >= 400 && !/status unknown/i.test(a.body)) abort.abort();
      return a;
    },
    (e: unknown) => {
      abort.abort();
      throw e;
    },
  );
  const writable = waitWritable(services, plan, started + timeoutMs, abort.signal);
  const [req, writableAt] = await Promise.allSettled([request, writable]);
  if (req.status === 'rejected') {
    return { ok: false, writableMs: null, patroni: null, newLeader: null, oldLeader: null, followers: [], endpoint: null, message: `Patroni did not accept the ${plan.kind}: ${(req.reason as Error).message}` };
  }
  const ms = writableAt.status === 'fulfilled' ? writableAt.value : null;
  if (ms === null) {
    const a = answer as PatroniAnswer | null;
    const said = a ? `Patroni answered ${describeAnswer(a)}` : 'Patroni did not answer';
    const unknown = !a || /status unknown/i.test(a.body) || a.status < 400;
    return {
      ok: false,
      writableMs: null,
      patroni: a,
      newLeader: null,
      oldLeader: null,
      followers: [],
      endpoint: null,
      message: unknown ? `${said}. Status unknown after ${Math.round((performance.now() - started) / 1000)} s; it may still be in progress — see /cluster status` : said,
    };
  }
  const node = nodeFor(plan.candidate, services.config.nodes);
  const endpoint = node ? await endpointToLeader(services, node) : null;
  const followers = waitMembersFollow(services, plan.candidate.name, followersOf(plan), ms);
  const oldLeader = plan.leader && plan.leaderAlive ? await waitOldLeaderStreams(services, plan.leader.name, ctx) : null;
  return { ok: true, writableMs: Math.round(ms - started), patroni: answer, newLeader: plan.candidate.name, oldLeader, followers: await followers, endpoint, message: 'done' };
}

/** Poll until Patroni names the candidate leader and the candidate takes a real write. */
async function waitWritable(services: Services, plan: Plan, deadline: number, signal: AbortSignal): Promise<number> {
  const client = patroniClient(services);
  const node = nodeFor(plan.candidate, services.config.nodes);
  while (performance.now() < deadline && !signal.aborted) {
    try {
      const { cluster } = await client.cluster();
      const leader = cluster.members.find(isLeader);
      if (leader?.name === plan.candidate.name && node) {
        await services.pools.query(
          node,
          `INSERT INTO proyecto.logs_replicacion (evento, nodo, usuario, detalle) VALUES ($1, $2, $3, $4)`,
          [`patroni_${plan.kind}`, node.name, 'clusterbot', JSON.stringify({ from: plan.leader?.name ?? null, to: plan.candidate.name })],
        );
        return performance.now();
      }
      if (leader?.name === plan.candidate.name && !node) {
        // Not in CLUSTER_NODES: no SQL, so trust the member's own report of being a primary.
        const own = await client.node(plan.candidate.api_url!);
        if (own.role === 'master' || own.role === 'primary') return performance.now();
      }
    } catch {
      // still switching: connection refused, read-only, or Patroni busy
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('not writable in time');
}

async function waitOldLeaderStreams(services: Services, name: string, ctx: CommandContext): Promise<string> {
  const deadline = performance.now() + Math.min(30_000, services.config.PATRONI_ACTION_TIMEOUT_SECONDS * 1000);
  await ctx.progress({ title: 'New leader writable', severity: 'info', text: `waiting for ${name} to stream from the new leader…` });
  while (performance.now() < deadline) {
    const snap = await patroniSnapshot(services);
    const n = snap.nodes.find((x) => x.name === name);
    const m = snap.patroni.members.find((x) => x.name === name);
    // Both views: SQL says it streams, and Patroni has published it as running again.
    if (n?.role === 'replica' && n.streaming && m && RUNNING.has(m.state)) return `${name} streams from ${n.upstream ?? 'the new leader'}`;
    await new Promise((r) => setTimeout(r, 500));
  }
  return `${name} is not streaming yet after 30 s — Patroni may still be rewinding it; see /cluster status`;
}

export function outcomeReply(plan: Plan, o: Outcome, who: string, snap: PatroniSnapshot | null): Reply {
  const verb = plan.kind === 'switchover' ? 'Switchover' : 'Failover';
  if (!o.ok) {
    return { title: `${verb} to ${plan.candidate.name} not confirmed`, severity: 'crit', text: o.endpoint ? `${o.message}\nWrite endpoint: ${o.endpoint.line}` : o.message, failed: true, data: { ok: false, kind: plan.kind, patroni: o.patroni } };
  }
  const fields = [
    { label: 'New leader', value: `${o.newLeader} (writable ${(o.writableMs! / 1000).toFixed(1)} s after the request)`, short: true },
    { label: 'Confirmed by', value: who, short: true },
    ...(o.oldLeader ? [{ label: 'Old leader', value: o.oldLeader }] : []),
    ...(o.patroni ? [{ label: 'Patroni said', value: describeAnswer(o.patroni) }] : []),
  ];
  const endpoint = snap?.nodes.find((n) => n.name === snap.primary);
  const lagging = o.followers.filter((f) => !f.ok);
  const endpointWarning = o.endpoint !== null && !o.endpoint.ok;
  if (endpointWarning) fields.push({ label: 'Write endpoint', value: `⚠ ${o.endpoint!.line}` });
  const outcome = lagging.length || endpointWarning ? 'done with warnings' : 'done';
  if (o.followers.length) fields.push({ label: 'Replicas', value: o.followers.map((f) => `${f.ok ? '✓' : '⚠'} ${f.line}`).join('\n') });
  return {
    title: `${verb} ${outcome}: ${plan.leader?.name ?? 'no leader'} → ${o.newLeader}`,
    severity: outcome === 'done' ? 'ok' : 'warn',
    text: o.endpoint ? `Write endpoint: ${o.endpoint.line}` : endpoint ? `Write endpoint: ${endpoint.host}:${endpoint.port} (${endpoint.name})` : undefined,
    fields,
    data: { ok: true, outcome, kind: plan.kind, from: plan.leader?.name ?? null, to: o.newLeader, writableMs: o.writableMs, oldLeader: o.oldLeader, followers: o.followers, endpoint: o.endpoint, primary: snap?.primary ?? null },
  };
}
