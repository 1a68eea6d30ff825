// Scenario "failover-catchup" (issue 17): Confirm → writable when the target first catches up from
// a replica that has more WAL, beside the plain failover measured on the same cluster in the same
// run (alternating, so slow phases of the shared machine hit both alike), and the extra time per MB
// caught up. Catch-up cycle: the target is cut off from its upstream, CATCHUP_MB of WAL is written
// and received by the third node, the primary is killed -9, the card (which must offer the catch-up)
// is confirmed; the figure is the time from the press to the first committed write on the target.
import type { TestCluster } from '../test/helpers/cluster.js';
import { cutOff } from '../test/helpers/wal-scenario.js';
import { oneFailover } from './confirm-writable.js';
import { judge, round, stats, type Scenario } from './lib.js';
import { benchCluster, clientFor, confirm, firstWrite, nextNode, rejoin, runtime, settled, sleep, WRITES_TABLE } from './support.js';

const CATCHUP_MB = 16;

interface CatchupCycle {
  confirmToWriteMs: number;
  catchupStepMs: number;
  bytes: number;
}

async function waitReplayed(c: TestCluster, node: string, lsn: string, timeoutMs = 60_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    const r = await c.sql<{ ok: boolean }>(node, 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [lsn]).catch(() => [{ ok: false }]);
    if (r[0].ok) return;
    await sleep(50);
  }
  throw new Error(`${node} did not replay up to ${lsn} within ${timeoutMs} ms`);
}

async function oneCatchup(c: TestCluster): Promise<CatchupCycle> {
  const s = c.app.services;
  const old = await settled(c);
  const target = nextNode(c, old);
  const ahead = nextNode(c, old, [target]);
  await cutOff(c, target);
  // ~1.1 kB of WAL per row.
  await c.sql(old, `INSERT INTO bench_pad SELECT g, repeat(md5(g::text), 31) FROM generate_series(1, ${CATCHUP_MB * 900}) g`);
  const lsn = (await c.sql<{ l: string }>(old, 'SELECT pg_current_wal_lsn()::text AS l'))[0].l;
  await waitReplayed(c, ahead, lsn);
  const writer = await clientFor(c, s.node(target));
  try {
    await s.runtime.kill(s.node(old));
    const card = await c.run(`/cluster failover ${target}`);
    const plan = (card.data as { plan?: { catchup?: { from: string; bytes: number } | null } } | undefined)?.plan;
    if (card.failed || !card.buttons?.length || !plan?.catchup) throw new Error(`no catch-up card for ${target}: ${card.title} ${card.text ?? ''}`);
    const probe = firstWrite(writer, 120_000);
    const t0 = performance.now();
    const op = await confirm(c, card.buttons[0].actionId, `failover to ${target} with catch-up`).finally(() => probe.cancel());
    const wrote = await probe.done;
    const step = op.steps.find((x) => x.step === `catch up from ${plan.catchup!.from}`);
    if (!step?.ok) throw new Error(`no successful catch-up step: ${JSON.stringify(op.steps)}`);
    await rejoin(c, old);
    return { confirmToWriteMs: wrote - t0, catchupStepMs: step.ms, bytes: plan.catchup.bytes };
  } finally {
    await writer.end().catch(() => undefined);
  }
}

export const failoverCatchup: Scenario = async ({ quick, log }) => {
  const reps = quick ? 1 : 5;
  log(`failover-catchup: a 3-node cluster, ${reps} plain failovers and ${reps} with a ${CATCHUP_MB} MB catch-up, alternating`);
  const c = await benchCluster(3);
  const plain: number[] = [];
  const cycles: CatchupCycle[] = [];
  try {
    await c.sql('n1', WRITES_TABLE);
    await c.sql('n1', 'CREATE TABLE IF NOT EXISTS bench_pad (id int, pad text)');
    for (let i = 0; i < reps; i++) {
      const p = await oneFailover(c);
      plain.push(p.confirmToWriteMs);
      const cu = await oneCatchup(c);
      cycles.push(cu);
      log(`  #${i + 1}: plain confirm → write ${round(p.confirmToWriteMs)} ms; with catch-up of ${round(cu.bytes / 2 ** 20)} MB ${round(cu.confirmToWriteMs)} ms (catch-up step ${cu.catchupStepMs} ms)`);
    }
  } finally {
    await c.destroy();
  }
  const st = stats(cycles.map((x) => x.confirmToWriteMs));
  const ref = stats(plain);
  const mb = stats(cycles.map((x) => x.bytes / 2 ** 20));
  // Extra time per MB: each catch-up failover against the plain one of the same repetition.
  const perMb = stats(cycles.map((x, i) => (x.confirmToWriteMs - plain[i]) / (x.bytes / 2 ** 20)));
  return [
    judge({
      scenario: 'failover-catchup',
      figure: `Confirm pressed → first write, failover with catch-up (~${CATCHUP_MB} MB)`,
      unit: 'ms',
      runtime: runtime(),
      stats: st,
      reference: { label: 'plain failover, same cluster, alternating', stats: ref },
      ratio: round(st.median / ref.median),
      goal: null,
      note: `the target was cut off from its upstream while ${round(mb.median)} MB (median) were written and received by the third node; the card offered the catch-up; primary killed -9 before the card`,
      breakdown: [
        { part: 'catch-up step', unit: 'ms', stats: stats(cycles.map((x) => x.catchupStepMs)) },
        { part: 'WAL caught up', unit: 'MB', stats: mb },
        { part: 'catch-up step per MB', unit: 'ms/MB', stats: stats(cycles.map((x) => x.catchupStepMs / (x.bytes / 2 ** 20))) },
      ],
    }),
    judge({
      scenario: 'failover-catchup',
      figure: 'Extra time per MB caught up',
      unit: 'ms/MB',
      runtime: runtime(),
      stats: perMb,
      reference: { label: 'plain failover confirm → write', stats: ref },
      ratio: null,
      goal: null,
      note: '(catch-up failover − plain failover of the same repetition) / MB caught up',
    }),
  ];
};
