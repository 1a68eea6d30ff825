// Scenario: crash failover with SYNC_MODE=on under a write load — committed rows lost (goal: 0),
// beside the same crash failovers with asynchronous replication in the same run (the reference).
// Each run: numbered autocommit INSERTs (the tests' WriteLoad), kill -9 of the primary, the card
// (which must pick a synchronous replica), confirm, count acknowledged rows missing on the new primary,
// then rejoin the old primary so roles rotate.
import type { TestCluster } from '../test/helpers/cluster.js';
import { WriteLoad } from '../test/helpers/load.js';
import { judge, stats, type Figure, type Scenario } from './lib.js';
import { benchCluster, confirm, rejoin, runtime, settled } from './support.js';

interface Run {
  lost: number;
  acked: number;
  zeroClaim: boolean;
}

export async function waitSyncActive(c: TestCluster, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    const r = await c.run('/cluster status');
    last = r.fields?.find((f) => f.label === 'Sync replication')?.value ?? '';
    if (/^on — .+ synchronous \(/.test(last)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`sync not active after ${timeoutMs} ms: ${last}`);
}

/** /cluster sync <mode>, confirmed. */
export async function setSync(c: TestCluster, mode: 'on' | 'off'): Promise<void> {
  const card = await c.run(`/cluster sync ${mode}`);
  const r = card.buttons?.length ? await c.press(card.buttons[0].actionId) : card;
  if (r.failed || !/^Synchronous replication: /.test(r.title ?? '')) throw new Error(`sync ${mode} failed: ${r.title} ${r.text ?? ''}`);
}

async function crashRun(c: TestCluster, base: number, sync: boolean): Promise<Run> {
  const s = c.app.services;
  const old = await settled(c);
  if (sync) await waitSyncActive(c);
  const load = new WriteLoad(c.config, base).start();
  let zeroClaim = false;
  let target = '';
  try {
    await load.waitAcked(200);
    await s.runtime.kill(s.node(old));
    const card = await c.run('/cluster failover');
    if (card.failed || !card.buttons?.length) throw new Error(`no failover card: ${card.title} ${card.text ?? ''}`);
    target = (card.data as { plan: { target: string } }).plan.target;
    zeroClaim = card.fields?.find((f) => f.label === 'Data at risk')?.value === '0 bytes at risk — synchronous';
    await confirm(c, card.buttons[0].actionId, `failover to ${target}`);
    await load.waitAcked(50);
  } finally {
    await load.stop();
  }
  const rows = await c.sql<{ id: string }>(target, 'SELECT id FROM proyecto.carga WHERE id >= $1 AND id < $2', [base, base + 1_000_000]);
  const have = new Set(rows.map((r) => Number(r.id)));
  const lost = [...load.acked].filter((id) => !have.has(id)).length;
  await rejoin(c, old);
  return { lost, acked: load.acked.size, zeroClaim };
}

async function series(reps: number, sync: boolean, log: (l: string) => void): Promise<Run[]> {
  const c = await benchCluster(3, { env: sync ? { SYNC_MODE: 'on', SYNC_DEGRADE_SECONDS: '60' } : {} });
  try {
    await c.sql('n1', 'CREATE TABLE proyecto.carga (id bigint PRIMARY KEY, nodo text NOT NULL, at timestamptz NOT NULL DEFAULT now())');
    if (sync) {
      await setSync(c, 'on');
    }
    const out: Run[] = [];
    for (let i = 0; i < reps; i++) {
      const r = await crashRun(c, (i + 1) * 1_000_000, sync);
      out.push(r);
      log(`  ${sync ? 'sync on' : 'async'} #${i + 1}: lost ${r.lost}/${r.acked}${r.zeroClaim ? ' (card: 0 bytes at risk — synchronous)' : ''}`);
    }
    return out;
  } finally {
    await c.destroy();
  }
}

export const syncLoss: Scenario = async ({ quick, log }) => {
  const reps = quick ? 1 : 20;
  const refReps = quick ? 1 : 10;
  log(`sync loss: ${reps} crash failovers with SYNC_MODE=on, ${refReps} with async replication (reference)`);
  const on = await series(reps, true, log);
  const off = await series(refReps, false, log);
  const figure: Figure = judge({
    scenario: 'sync-loss',
    figure: 'committed rows lost in a crash failover, SYNC_MODE=on',
    unit: 'rows',
    runtime: runtime(),
    stats: stats(on.map((r) => r.lost)),
    reference: { label: 'rows lost, async (same run)', stats: stats(off.map((r) => r.lost)) },
    ratio: null,
    goal: { on: 'max', op: '<=', value: 0 },
    note: `card said "0 bytes at risk — synchronous" in ${on.filter((r) => r.zeroClaim).length}/${on.length} sync runs and ${off.filter((r) => r.zeroClaim).length}/${off.length} async runs; rows acked per sync run: median ${stats(on.map((r) => r.acked)).median}; async lost per run: ${off.map((r) => r.lost).join(', ')}`,
  });
  return [figure];
};
