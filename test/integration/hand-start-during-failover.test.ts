// The old primary started by hand while a failover runs: someone types `pg_ctl start` on its data
// directory right after the bot fenced it, before the promotion. An independent prober samples
// pg_is_in_recovery() on every node throughout: never two writable nodes. The fenced node comes up
// read-only (the fence's standby.signal), the standby is promoted, the load goes on there. And if
// the person also deleted standby.signal, the bot cannot stop the start, but must not call the
// result "done": the card says SPLIT BRAIN and names the node to stop.
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';
import type { LocalRuntime } from '../../src/runtime/local.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { WritableWatcher, WriteLoad } from '../helpers/load.js';
import { eventually } from '../helpers/wait.js';

describe('the old primary started by hand during a failover (real cluster)', () => {
  let c: TestCluster;
  let watcher: WritableWatcher | undefined;
  const runtime = () => c.app.services.runtime as LocalRuntime;
  const primary = () => c.app.services.node('primary');

  beforeAll(async () => {
    c = await startTestCluster();
    await c.sql('primary', 'CREATE TABLE proyecto.carga (id bigint PRIMARY KEY, nodo text NOT NULL)');
    watcher = new WritableWatcher(c.config).start();
  });
  afterAll(async () => {
    await watcher?.stop();
    await c?.destroy();
  });

  it('pg_ctl start right after the fence step: it comes up read-only, the standby is promoted, never two writable nodes', async () => {
    const load = new WriteLoad(c.config, 1).start();
    const data = runtime().paths(primary()).data;
    const byHand: string[] = [];
    try {
      await load.waitAcked(50);
      const card = await c.run('/cluster failover');
      expect(card.title).toBe('Confirm: fail over to standby');
      const fenced = (r: Reply) => r.tables?.[0]?.rows.some((row) => row[0] === '✓' && row[1] === 'fence primary');
      const done = await c.press(card.buttons!.find((b) => b.label === 'Promote standby')!.actionId, c.admin, {
        // The card's edits are awaited: the failover waits here while the old primary is started by hand.
        progress: async (r) => {
          if (byHand.length || !fenced(r)) return;
          byHand.push(`signal before: ${existsSync(`${data}/standby.signal`)}`);
          const started = await runtime().exec(primary(), 'pg_ctl', ['start', '-D', data, '-l', runtime().paths(primary()).log, '-w', '-t', '60', '-s'], {}, true);
          byHand.push(`pg_ctl start exit ${started.code}`);
          if (started.code !== 0) console.log(`[hand-start] pg_ctl start: ${started.stderr.trim() || started.stdout.trim()}; its log: ${await runtime().logs(primary(), 15)}`);
        },
      });
      expect(byHand, 'the old primary was started by hand between fence and promotion').toEqual(['signal before: true', 'pg_ctl start exit 0']);
      expect(done.failed, done.text).toBeFalsy();
      expect(done.title).toMatch(/^Failover done — standby is the primary/);

      // The hand-started node answers, read-only, and says it is fenced.
      const ro = await c.sql<{ r: boolean }>('primary', 'SELECT pg_is_in_recovery() AS r');
      expect(ro[0].r).toBe(true);
      await expect(c.sql('primary', "INSERT INTO proyecto.carga VALUES (-1, 'by hand')")).rejects.toMatchObject({ code: '25006' });
      const status = (await c.run('/cluster status')).data as { writable: string[]; nodes: Array<{ name: string; up: boolean; role: string; fenced: boolean }> };
      expect(status.writable).toEqual(['standby']);
      expect(status.nodes.find((n) => n.name === 'primary')).toMatchObject({ up: true, role: 'replica', fenced: true });
      const before = load.acked.size;
      await load.waitAcked(20);
      const onStandby = await c.sql<{ n: number }>('standby', "SELECT count(*)::int AS n FROM proyecto.carga WHERE nodo = 'standby'");
      expect(onStandby[0].n, `acked before: ${before}`).toBeGreaterThan(0);
    } finally {
      await load.stop();
    }
    // The prober kept sampling through the hand start: one writable node at most, every sample.
    await eventually('the prober to sample the cluster after the failover', () => watcher!.samples.at(-1)?.writable ?? [], (w) => w.length === 1 && w[0] === 'standby');
    const two = watcher!.samples.filter((s) => s.writable.length > 1);
    expect(two, 'samples with two writable nodes').toEqual([]);
  });
});

describe('the old primary started by hand without its standby.signal during a failover (real cluster)', () => {
  let c: TestCluster;
  afterAll(async () => {
    await c?.destroy();
  });

  it('the card does not say done: it says SPLIT BRAIN and names the node to stop', async () => {
    c = await startTestCluster();
    const runtime = c.app.services.runtime as LocalRuntime;
    const primary = c.app.services.node('primary');
    const data = runtime.paths(primary).data;
    let started = -1;
    let why = '';
    const card = await c.run('/cluster failover');
    const done = await c.press(card.buttons!.find((b) => b.label === 'Promote standby')!.actionId, c.admin, {
      progress: async (r) => {
        if (started >= 0 || !r.tables?.[0]?.rows.some((row) => row[0] === '✓' && row[1] === 'fence primary')) return;
        rmSync(`${data}/standby.signal`);
        const res = await runtime.exec(primary, 'pg_ctl', ['start', '-D', data, '-l', runtime.paths(primary).log, '-w', '-t', '60', '-s'], {}, true);
        started = res.code;
        if (res.code !== 0) why = `pg_ctl start: ${res.stderr.trim() || res.stdout.trim()}; its log: ${await runtime.logs(primary, 15)}`;
      },
    });
    expect(started, why).toBe(0);
    expect(done.title).toBe('Failover done with warnings — SPLIT BRAIN: primary and standby accept writes');
    expect(done.severity).toBe('crit');
    expect(done.text).toMatch(/⚠ SPLIT BRAIN: primary and standby all accept writes — a node was started outside the bot; stop primary now \(\/cluster stop primary\)/);
  });
});
