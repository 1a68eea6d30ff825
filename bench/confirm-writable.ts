// Scenario 2: confirm → writable. kill -9 the primary, open the failover card, press Confirm; the
// figure is the time from the press to the first INSERT a separate client gets committed on the
// new primary. Reference, same run: on a second cluster, kill -9 its primary, then a bare
// `SELECT pg_promote(false)` on its replica while the same write probe retries every ~1 ms: the real
// floor. (pg_promote(true) polls for the end of recovery every 100 ms, so it is no floor: timed that
// way the bare promote took ≈ 104 ms, slower than the bot.)
// The same failover cycles also time scenario 3 (promotion → other replicas streaming).
import type { TestCluster } from '../test/helpers/cluster.js';
import { judge, round, stats, type Figure, type Scenario } from './lib.js';
import { benchCluster, clientFor, confirm, failoverCard, firstWrite, nextNode, rejoin, runtime, settled, sleep, WRITES_TABLE, type OpStep } from './support.js';

export interface FailoverCycle {
  /** Confirm pressed → first committed write on the new primary. */
  confirmToWriteMs: number;
  /** First committed write on the new primary → every other replica streaming from it. */
  promotionToStreamingMs: number;
  steps: OpStep[];
}

export interface FailoverCycles {
  cycles: FailoverCycle[];
  /** Bare pg_promote(false) + a ~1 ms write loop on the reference cluster: the floor. */
  bareMs: number[];
  nodes: number;
}

/** Polls the new primary until every other node streams from it; resolves with performance.now(). */
async function allStreaming(c: TestCluster, primary: string, others: string[], timeoutMs = 30_000): Promise<number> {
  const client = await clientFor(c, c.app.services.node(primary));
  try {
    const until = performance.now() + timeoutMs;
    while (performance.now() < until) {
      const r = await client.query<{ application_name: string }>("SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'").catch(() => null);
      const now = performance.now();
      if (r && others.every((o) => r.rows.some((x) => x.application_name === o))) return now;
      await sleep(10);
    }
    throw new Error(`${others.join(', ')} not streaming from ${primary} within ${timeoutMs} ms`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function oneFailover(c: TestCluster): Promise<FailoverCycle> {
  const s = c.app.services;
  const old = await settled(c);
  const target = nextNode(c, old);
  const others = c.config.nodes.map((n) => n.name).filter((n) => n !== old && n !== target);
  const writer = await clientFor(c, s.node(target));
  try {
    await s.runtime.kill(s.node(old));
    const card = await failoverCard(c, target);
    const probe = firstWrite(writer);
    const streaming = allStreaming(c, target, others);
    streaming.catch(() => undefined);
    const t0 = performance.now();
    const op = await confirm(c, card.confirm, `failover to ${target}`).finally(() => probe.cancel());
    const wrote = await probe.done;
    const streamed = await streaming;
    await rejoin(c, old);
    return { confirmToWriteMs: wrote - t0, promotionToStreamingMs: Math.max(0, streamed - wrote), steps: op.steps };
  } finally {
    await writer.end().catch(() => undefined);
  }
}

async function onePromote(c: TestCluster): Promise<number> {
  const s = c.app.services;
  const old = await settled(c);
  const target = nextNode(c, old);
  const writer = await clientFor(c, s.node(target));
  try {
    await s.runtime.kill(s.node(old));
    const promoter = await clientFor(c, s.node(target));
    try {
      const t0 = performance.now();
      await promoter.query('SELECT pg_promote(false)');
      const wrote = await firstWrite(writer).done;
      await rejoin(c, old);
      return wrote - t0;
    } finally {
      await promoter.end().catch(() => undefined);
    }
  } finally {
    await writer.end().catch(() => undefined);
  }
}

const REFERENCE = 'bare pg_promote(false) + ~1 ms write loop';

let memo: { quick: boolean; runtime: string; result: Promise<FailoverCycles> } | null = null;

/** Runs the failover cycles once per bench run and runtime (scenarios 2 and 3 both read them). */
export function failoverCycles(quick: boolean, log: (l: string) => void): Promise<FailoverCycles> {
  if (memo?.quick === quick && memo.runtime === runtime()) return memo.result;
  const result = runCycles(quick, log);
  memo = { quick, runtime: runtime(), result };
  result.catch(() => (memo = null));
  return result;
}

async function runCycles(quick: boolean, log: (l: string) => void): Promise<FailoverCycles> {
  const reps = quick ? 1 : 10;
  const nodes = 3;
  // The reference cluster has no third node: after a bare pg_promote nothing would re-point it.
  log(`failover cycles: a ${nodes}-node cluster and a 2-node reference cluster, ${reps} repetitions`);
  const [a, b] = await Promise.all([benchCluster(nodes), benchCluster(2)]);
  try {
    for (const c of [a, b]) await c.sql('n1', WRITES_TABLE);
    const cycles: FailoverCycle[] = [];
    const bareMs: number[] = [];
    for (let i = 0; i < reps; i++) {
      // Alternate so slow phases of the shared machine hit both sides alike.
      const cy = await oneFailover(a);
      cycles.push(cy);
      const bare = await onePromote(b);
      bareMs.push(bare);
      log(`  #${i + 1}: confirm → write ${round(cy.confirmToWriteMs)} ms (bare pg_promote(false) → write ${round(bare)} ms); write → replicas streaming ${round(cy.promotionToStreamingMs)} ms; steps ${cy.steps.map((x) => `${x.step}=${x.ms}`).join(' ')}`);
    }
    return { cycles, bareMs, nodes };
  } finally {
    await Promise.all([a.destroy(), b.destroy()]);
  }
}

export const confirmWritable: Scenario = async ({ quick, log }) => {
  const { cycles, bareMs, nodes } = await failoverCycles(quick, log);
  const st = stats(cycles.map((c) => c.confirmToWriteMs));
  const ref = stats(bareMs);
  const fence = stats(cycles.flatMap((c) => c.steps.filter((s) => s.step.startsWith('fence ')).map((s) => s.ms)));
  // The failover's own step durations (reply.data.steps), by kind of step, beside the figure.
  const byKind = new Map<string, number[]>();
  for (const c of cycles) for (const s of c.steps) {
    const kind = s.step.replace(/\bn\d+\b/g, '<node>');
    byKind.set(kind, [...(byKind.get(kind) ?? []), s.ms]);
  }
  const figures: Figure[] = [
    judge({
      scenario: 'confirm-writable',
      figure: 'Confirm pressed → first write on new primary',
      unit: 'ms',
      runtime: runtime(),
      stats: st,
      reference: { label: REFERENCE, stats: ref },
      ratio: round(st.median / ref.median),
      // Every repetition within the 1-second goal, not only the median.
      goal: { on: 'max', op: '<=', value: 1000 },
      note: `${nodes}-node cluster (reference: 2 nodes, same settings); the primary was killed (-9) before the card was opened; the writer retries every ~1 ms on the target`,
      breakdown: [...byKind].map(([part, ms]) => ({ part: `step ${part}`, unit: 'ms', stats: stats(ms) })),
    }),
    // What the bot adds to the floor: the re-check of every node on Confirm, the proven fence, the
    // durable journal, the card. For the record, with no goal of its own: SPEC §10's goal is the 1 s
    // above (every repetition). A ratio goal (once ≤ 1.3) held that safety work to ~50 ms on a
    // ~150–220 ms floor, a few engine round trips on Docker: a number no one chose for a reason.
    judge({
      scenario: 'confirm-writable',
      figure: 'the bot\'s own work: Confirm → first write median − bare promote median',
      unit: 'ms',
      runtime: runtime(),
      stats: { repetitions: 1, min: round(st.median - ref.median), median: round(st.median - ref.median), max: round(st.median - ref.median) },
      reference: { label: REFERENCE, stats: ref },
      ratio: round(st.median / ref.median),
      goal: null,
      note: 'no goal of its own (SPEC §10: Confirm → writable ≤ 1 s every repetition, above); the parts are the steps listed under the table',
    }),
    judge({
      scenario: 'confirm-writable',
      figure: 'fence step of the failover (stop check, marker, verify)',
      unit: 'ms',
      runtime: runtime(),
      stats: fence,
      reference: { label: REFERENCE, stats: ref },
      ratio: round(fence.median / ref.median),
      goal: null,
      note: cycles[0]?.steps.find((s) => s.step.startsWith('fence '))?.detail,
    }),
  ];
  return figures;
};
