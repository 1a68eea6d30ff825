// The follow guarantee on the Patroni backend (issue 14): after a leader change, wait until every
// other member Patroni had running is a replica streaming from the new leader — SQL says so
// (pg_stat_wal_receiver streaming, upstream = new leader) and Patroni's /cluster shows it running or
// streaming — for at most FOLLOW_TIMEOUT_SECONDS, counted from the moment the leader took a write.
import type { Services } from '../core/context.js';
import type { PatroniMember } from './client.js';
import { patroniSnapshot, type PatroniSnapshot } from './snapshot.js';

const RUNNING = new Set(['running', 'streaming']);

export interface MemberFollow {
  name: string;
  ok: boolean;
  ms: number;
  line: string;
}

/** Members to wait for: configured, running when the change was planned, neither the candidate nor the old leader. */
export function followersOf(plan: { snap: PatroniSnapshot; candidate: PatroniMember; leader: PatroniMember | null }): string[] {
  return plan.snap.patroni.members
    .filter((m) => m.name !== plan.candidate.name && m.name !== plan.leader?.name && RUNNING.has(m.state))
    .map((m) => m.node)
    .filter((n): n is string => Boolean(n));
}

export async function waitMembersFollow(services: Services, leader: string, names: string[], since: number): Promise<MemberFollow[]> {
  const timeoutMs = services.config.FOLLOW_TIMEOUT_SECONDS * 1000;
  const done = new Map<string, MemberFollow>();
  let last = new Map<string, string>();
  for (;;) {
    const snap = await patroniSnapshot(services).catch(() => null);
    const ms = Math.round(performance.now() - since);
    last = new Map();
    for (const name of names.filter((n) => !done.has(n))) {
      const n = snap?.nodes.find((x) => x.name === name);
      const m = snap?.patroni.members.find((x) => x.node === name || x.name === name);
      if (n?.role === 'replica' && n.streaming && n.upstream === leader && m && RUNNING.has(m.state)) {
        done.set(name, { name, ok: true, ms, line: `${name} streaming after ${ms} ms (from ${leader}, timeline ${n.timeline ?? '?'})` });
      } else {
        const sql = !n ? 'no answer' : !n.up ? `down (${n.error ?? '?'})` : n.role !== 'replica' ? `a ${n.role}` : n.streaming ? `streaming from ${n.upstream ?? '?'}` : 'not streaming';
        last.set(name, `SQL: ${sql}; Patroni: ${m?.state ?? 'not listed'}`);
      }
    }
    if (done.size === names.length || ms >= timeoutMs) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  const ms = Math.round(performance.now() - since);
  return names.map(
    (name) =>
      done.get(name) ?? {
        name,
        ok: false,
        ms,
        line: `${name} not streaming yet after ${(ms / 1000).toFixed(1)} s: ${last.get(name) ?? 'unknown'} — Patroni rejoins it on its own; if it stays so, /cluster rejoin ${name}`,
      },
  );
}
