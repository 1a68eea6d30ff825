// Scenario 4: committed rows lost under a write load (the failover tests' WriteLoad: numbered
// autocommit INSERTs that follow the writable node). During a switchover the goal is 0 lost.
// During a crash failover the goal is: lost ≤ the lag the card reported. The card reports bytes,
// the load counts rows, so the bytes are turned into rows with the WAL each row cost during the
// same run (pg_current_wal_lsn before/after the first acked rows ÷ their count); a run passes when
// lost rows ≤ ceil(card lag ÷ WAL bytes per row). The judged figure is the excess per run: max(0, lost − allowed).
import type { TestCluster } from '../test/helpers/cluster.js';
import { WriteLoad } from '../test/helpers/load.js';
import { judge, round, stats, type Figure, type Scenario } from './lib.js';
import { benchCluster, confirm, failoverCard, nextNode, rejoin, runtime, settled } from './support.js';

const lsn = async (c: TestCluster, node: string) => (await c.sql<{ l: string }>(node, 'SELECT pg_current_wal_lsn()::text AS l'))[0].l;

async function lostRows(c: TestCluster, primary: string, load: WriteLoad, base: number): Promise<number> {
  const rows = await c.sql<{ id: string }>(primary, 'SELECT id FROM proyecto.carga WHERE id >= $1 AND id < $2', [base, base + 1_000_000]);
  const have = new Set(rows.map((r) => Number(r.id)));
  return [...load.acked].filter((id) => !have.has(id)).length;
}

async function switchover(c: TestCluster, base: number): Promise<{ lost: number; acked: number }> {
  const from = await settled(c);
  const to = nextNode(c, from);
  const load = new WriteLoad(c.config, base).start();
  try {
    await load.waitAcked(100);
    const card = await c.run(`/cluster switchover ${to}`);
    if (card.failed || !card.buttons?.length) throw new Error(`no switchover card: ${card.title} ${card.text ?? ''}`);
    await confirm(c, card.buttons[0].actionId, `switchover to ${to}`);
    await load.waitAcked(50);
  } finally {
    await load.stop();
  }
  return { lost: await lostRows(c, to, load, base), acked: load.acked.size };
}

async function crashFailover(c: TestCluster, base: number): Promise<{ lost: number; allowed: number; lagBytes: number; walPerRow: number; acked: number }> {
  const s = c.app.services;
  const old = await settled(c);
  const target = nextNode(c, old);
  const before = await lsn(c, old);
  const load = new WriteLoad(c.config, base).start();
  let lagBytes: number;
  let walPerRow: number;
  try {
    await load.waitAcked(200);
    const n = load.acked.size;
    const after = await lsn(c, old);
    const wal = await c.sql<{ d: string }>(old, 'SELECT pg_wal_lsn_diff($1, $2)::text AS d', [after, before]);
    walPerRow = Number(wal[0].d) / n;
    await s.runtime.kill(s.node(old));
    const card = await failoverCard(c, target);
    lagBytes = card.lagBytes;
    await confirm(c, card.confirm, `failover to ${target}`);
    await load.waitAcked(50);
  } finally {
    await load.stop();
  }
  const lost = await lostRows(c, target, load, base);
  await rejoin(c, old);
  return { lost, allowed: Math.ceil(lagBytes / walPerRow), lagBytes, walPerRow: round(walPerRow), acked: load.acked.size };
}

export const lossUnderLoad: Scenario = async ({ quick, log }) => {
  const reps = quick ? 1 : 10;
  const c = await benchCluster(3);
  try {
    await c.sql('n1', 'CREATE TABLE proyecto.carga (id bigint PRIMARY KEY, nodo text NOT NULL, at timestamptz NOT NULL DEFAULT now())');
    log(`loss under load: ${reps} switchovers and ${reps} crash failovers on a 3-node cluster`);
    const sw: Array<{ lost: number; acked: number }> = [];
    const fo: Array<{ lost: number; allowed: number; lagBytes: number; walPerRow: number; acked: number }> = [];
    let base = 1;
    for (let i = 0; i < reps; i++) {
      const a = await switchover(c, (base += 1_000_000));
      sw.push(a);
      const b = await crashFailover(c, (base += 1_000_000));
      fo.push(b);
      log(`  #${i + 1}: switchover lost ${a.lost}/${a.acked}; failover lost ${b.lost}/${b.acked}, card lag ${b.lagBytes} B ≈ ${b.allowed} rows at ${b.walPerRow} B/row`);
    }
    const figures: Figure[] = [
      judge({
        scenario: 'loss-under-load',
        figure: 'committed rows lost in a switchover',
        unit: 'rows',
        runtime: runtime(),
        stats: stats(sw.map((x) => x.lost)),
        reference: { label: 'rows committed during the run', stats: stats(sw.map((x) => x.acked)) },
        ratio: null,
        goal: { on: 'max', op: '<=', value: 0 },
      }),
      judge({
        scenario: 'loss-under-load',
        figure: 'rows lost in a crash failover beyond the lag the card reported',
        unit: 'rows',
        runtime: runtime(),
        stats: stats(fo.map((x) => Math.max(0, x.lost - x.allowed))),
        reference: { label: 'card lag as rows', stats: stats(fo.map((x) => x.allowed)) },
        ratio: null,
        goal: { on: 'max', op: '<=', value: 0 },
        note: `lost rows per run: ${fo.map((x) => x.lost).join(', ')}; card lag (bytes): ${fo.map((x) => x.lagBytes).join(', ')}; WAL per row ≈ ${round(stats(fo.map((x) => x.walPerRow)).median, 0)} B`,
      }),
    ];
    return figures;
  } finally {
    await c.destroy();
  }
};
