// Issues 14 and 17 on containers (RUNTIME=docker): the standby stopped receiving WAL, the readonly
// kept streaming, 500 rows committed, the primary container killed → the failover first catches the
// standby up from the readonly (cascading over the compose network), then promotes it; every node
// ends with all 500 rows and the card says after how long each replica streamed. Then `force` on the
// next failover loses only the LSN range its card named, and a catch-up that cannot finish asks again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';
import { lsnDiff } from '../../src/cluster/lsn.js';
import { newDockerCluster, until, upWithTwoReplicas, type DockerCluster } from '../helpers/docker.js';
import { commitRows, cutOff, rowCount, waitRows } from '../helpers/wal-scenario.js';

interface OpData {
  steps: Array<{ step: string; ms: number; ok: boolean; detail: string }>;
}
const dump = (r: Reply) => `${r.title}\n${r.text}\n${JSON.stringify((r.data as OpData | undefined)?.steps, null, 1)}`;

describe('failover catch-up and the follow guarantee on containers', () => {
  let c: DockerCluster;
  const kill = async (name: string) => {
    await c.runtime.kill(c.app.services.node(name));
    await until(`the ${name} container down`, async () => !(await c.runtime.isRunning(c.app.services.node(name))), 30_000, 200);
  };

  beforeAll(async () => {
    c = await newDockerCluster('cu');
    await upWithTwoReplicas(c);
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('standby cut off, 500 rows, primary killed → standby catches up from readonly, then is promoted: 500 rows on every node', async () => {
    await c.sql('primary', 'CREATE TABLE proyecto.filas (id int PRIMARY KEY)');
    await commitRows(c, 'primary', 'proyecto.filas', 1, 10);
    await waitRows(c, 'standby', 'proyecto.filas', 10);
    await cutOff(c, 'standby');
    await commitRows(c, 'primary', 'proyecto.filas', 11, 500);
    await waitRows(c, 'readonly', 'proyecto.filas', 500);
    await kill('primary');

    const card = await c.run('/cluster failover');
    expect(card.buttons?.[0].label, card.text).toBe('Promote standby');
    expect(card.text).toMatch(/standby will first catch up .* from readonly, then be promoted: 0 bytes lost among the nodes that are still up/);
    const t0 = performance.now();
    const r = await c.press(card.buttons![0].actionId);
    expect(r.failed, dump(r)).toBeFalsy();
    expect(r.title).toMatch(/^Failover done — standby is the primary/);
    const steps = (r.data as OpData).steps;
    console.info(`[docker catch-up] confirm → done: ${Math.round(performance.now() - t0)} ms (${steps.map((s) => `${s.step}=${s.ms}ms`).join(', ')})`);
    expect(steps.find((s) => s.step === 'catch up from readonly')).toMatchObject({ ok: true, detail: expect.stringMatching(/^standby caught up .* from readonly in \d+ ms/) });
    expect(steps.find((s) => s.step === 'readonly streaming')?.detail).toMatch(/^readonly streaming after \d+ ms \(from standby, timeline 2\)$/);

    expect(await rowCount(c, 'standby', 'proyecto.filas')).toBe(500);
    await waitRows(c, 'readonly', 'proyecto.filas', 500);
    const rj = await c.run('/cluster rejoin primary');
    expect(rj.failed, dump(rj)).toBeFalsy();
    expect((rj.data as OpData).steps.find((s) => s.step === 'primary streaming')?.detail).toMatch(/^primary streaming after \d+ ms \(from standby, timeline 2\)$/);
    await waitRows(c, 'primary', 'proyecto.filas', 500);
  });

  it('`force` promotes without catching up and loses only the LSN range the card named', async () => {
    await c.sql('standby', 'CREATE TABLE proyecto.forzado (id int PRIMARY KEY)');
    const before = await commitRows(c, 'standby', 'proyecto.forzado', 1, 10);
    await waitRows(c, 'primary', 'proyecto.forzado', 10);
    await cutOff(c, 'primary');
    const after = await commitRows(c, 'standby', 'proyecto.forzado', 11, 200);
    await waitRows(c, 'readonly', 'proyecto.forzado', 200);
    await kill('standby');

    const card = await c.run('/cluster failover primary force');
    const m = /readonly \(no-failover node\) has received .* more WAL than primary: that WAL is lost with this failover \(`force`: no catch-up\) — LSN (\S+) – (\S+) is at risk/.exec(card.text ?? '');
    expect(m, card.text).not.toBeNull();
    const r = await c.press(card.buttons![0].actionId);
    expect(r.failed, dump(r)).toBeFalsy();
    expect(r.title).toMatch(/^Failover done — primary is the primary/);

    const have = new Set((await c.sql<{ id: number }>('primary', 'SELECT id FROM proyecto.forzado')).map((x) => x.id));
    const all = new Map([...before, ...after]);
    const lost = [...all.keys()].filter((id) => !have.has(id));
    expect(lost.length).toBeGreaterThan(0);
    for (const id of lost) {
      expect(lsnDiff(all.get(id), m![1]), `row ${id}`).toBeGreaterThan(0);
      expect(lsnDiff(all.get(id), m![2]), `row ${id}`).toBeLessThanOrEqual(0);
    }
    for (let id = 1; id <= 10; id++) expect(have.has(id)).toBe(true);
    await waitRows(c, 'readonly', 'proyecto.forzado', have.size);
  });

  it('a catch-up that cannot finish in FAILOVER_CATCHUP_SECONDS promotes nothing and asks again', async () => {
    // primary leads now; standby (failover-eligible) is rejoined, then cut off with its replay paused.
    const rj = await c.run('/cluster rejoin standby');
    expect(rj.failed, dump(rj)).toBeFalsy();
    await c.sql('primary', 'CREATE TABLE proyecto.tarde (id int PRIMARY KEY)');
    await waitRows(c, 'standby', 'proyecto.tarde', 0);
    await cutOff(c, 'standby');
    await commitRows(c, 'primary', 'proyecto.tarde', 1, 50);
    await waitRows(c, 'readonly', 'proyecto.tarde', 50);
    await c.sql('standby', 'SELECT pg_wal_replay_pause()');
    c.app.services.config.FAILOVER_CATCHUP_SECONDS = 2;
    try {
      await kill('primary');
      const card = await c.run('/cluster failover');
      expect(card.text).toMatch(/standby will first catch up .* from readonly, then be promoted/);
      const r = await c.press(card.buttons![0].actionId);
      expect(r.title, dump(r)).toMatch(/^Failover paused — standby did not catch up from readonly/);
      expect(r.text).toMatch(/^Nothing was fenced or promoted: .* — replay is paused on standby/);
      expect(r.text).toMatch(/Promoting standby now loses up to .* that readonly holds: LSN \S+ – \S+\./);
      expect(r.buttons?.map((b) => b.label)).toEqual(['Promote standby anyway (force)', 'Cancel']);
      const s = await c.app.services.snapshot();
      expect(s.writable).toEqual([]);
      expect(s.nodes.find((n) => n.name === 'standby')).toMatchObject({ role: 'replica', fenced: false });
      expect((await c.press(r.buttons![1].actionId)).title).toMatch(/^Cancelled/);
      expect((await c.app.services.snapshot()).writable).toEqual([]);
    } finally {
      c.app.services.config.FAILOVER_CATCHUP_SECONDS = 30;
    }
  });
});
