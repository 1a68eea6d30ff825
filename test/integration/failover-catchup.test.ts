// Issue 17 on a real cluster: a failover loses nothing that a surviving node still has. The standby
// stopped receiving WAL, the no-failover readonly kept streaming, 500 rows were committed, the primary
// was killed: the standby first catches up from the readonly, then is promoted. A catch-up that does
// not finish asks again; `force` promotes as the target is and loses only the LSN range the card named.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';
import { lsnDiff } from '../../src/cluster/lsn.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { commitRows as commit, cutOff as cut, rowCount, waitRows as wait } from '../helpers/wal-scenario.js';

interface OpData {
  steps: Array<{ step: string; ms: number; ok: boolean; detail: string }>;
  outcome: string;
}
interface StatusData {
  primary: string | null;
  writable: string[];
  nodes: Array<{ name: string; role: string; up: boolean; streaming: boolean; upstream: string | null; fenced: boolean }>;
}
const dump = (r: Reply) => `${r.title}\n${r.text}\n${JSON.stringify((r.data as OpData | undefined)?.steps, null, 1)}`;

describe('failover catches up from the most advanced surviving replica before promoting', () => {
  let c: TestCluster;
  const status = async () => (await c.run('/cluster status')).data as StatusData;
  const node = (s: StatusData, name: string) => s.nodes.find((n) => n.name === name)!;
  const count = (name: string, table: string) => rowCount(c, name, table);
  const commitRows = (primary: string, table: string, from: number, to: number) => commit(c, primary, table, from, to);
  const waitRows = (name: string, table: string, n: number) => wait(c, name, table, n);
  const cutOff = (name: string) => cut(c, name);

  beforeAll(async () => {
    c = await startTestCluster();
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('standby cut off, readonly streaming, 500 rows, primary killed → standby catches up from readonly: all 500 rows everywhere', async () => {
    await c.sql('primary', 'CREATE TABLE proyecto.filas (id int PRIMARY KEY)');
    await commitRows('primary', 'proyecto.filas', 1, 10);
    await waitRows('standby', 'proyecto.filas', 10);
    await cutOff('standby');
    await commitRows('primary', 'proyecto.filas', 11, 500);
    await waitRows('readonly', 'proyecto.filas', 500);
    expect(await count('standby', 'proyecto.filas')).toBe(10);
    await c.app.services.runtime.kill(c.app.services.node('primary'));

    const card = await c.run('/cluster failover');
    expect(card.buttons?.[0].label, card.text).toBe('Promote standby');
    expect(card.text).toMatch(/standby will first catch up \d+(\.\d+)? kB from readonly, then be promoted: 0 bytes lost among the nodes that are still up\./);
    expect(card.text).not.toMatch(/that WAL is lost/);
    expect(card.fields?.find((f) => f.label === 'Catch up first')?.value).toMatch(/^.*bytes\) from readonly \(\S+ → \S+\)$/);

    const edits: Reply[] = [];
    const r = await c.press(card.buttons![0].actionId, c.admin, { progress: async (e) => void edits.push(e) });
    expect(r.failed, dump(r)).toBeFalsy();
    expect(r.title).toMatch(/^Failover done — standby is the primary/);
    const steps = (r.data as OpData).steps;
    expect(steps.map((s) => s.step)).toEqual(['preflight', 'catch up from readonly', 'fence primary', 'promote standby', 'verify write', 'read new timeline', 're-point readonly', 'readonly streaming']);
    expect(steps[1]).toMatchObject({ ok: true, detail: expect.stringMatching(/^standby caught up .* from readonly in \d+ ms: received \S+ → \S+, replayed to \S+$/) });
    expect(edits.some((e) => /▶ catch up from readonly…/.test(e.text ?? ''))).toBe(true);

    expect(await count('standby', 'proyecto.filas')).toBe(500);
    await waitRows('readonly', 'proyecto.filas', 500);
    const s = await status();
    expect(s.writable).toEqual(['standby']);
    expect(node(s, 'readonly')).toMatchObject({ role: 'replica', streaming: true, upstream: 'standby' });
    // The fenced old primary, rejoined, has them all too.
    const rj = await c.run('/cluster rejoin primary');
    expect(rj.failed, dump(rj)).toBeFalsy();
    await waitRows('primary', 'proyecto.filas', 500);
  });

  it('a catch-up that does not finish in FAILOVER_CATCHUP_SECONDS promotes nothing and asks again, naming the range', async () => {
    // Now standby leads; primary (failover-eligible) is cut off, readonly streams.
    await c.sql('standby', 'CREATE TABLE proyecto.tarde (id int PRIMARY KEY)');
    await waitRows('primary', 'proyecto.tarde', 0);
    await cutOff('primary');
    await commitRows('standby', 'proyecto.tarde', 1, 100);
    await waitRows('readonly', 'proyecto.tarde', 100);
    // Replay paused on the target: it can receive, never replay, so the catch-up cannot finish.
    await c.sql('primary', 'SELECT pg_wal_replay_pause()');
    c.app.services.config.FAILOVER_CATCHUP_SECONDS = 2;
    try {
      await c.app.services.runtime.kill(c.app.services.node('standby'));
      const card = await c.run('/cluster failover');
      expect(card.buttons?.[0].label, card.text).toBe('Promote primary');
      expect(card.text).toMatch(/primary will first catch up .* from readonly, then be promoted/);
      const edits: Reply[] = [];
      const r = await c.press(card.buttons![0].actionId, c.admin, { progress: async (e) => void edits.push(e) });
      expect(r.title, dump(r)).toMatch(/^Failover paused — primary did not catch up from readonly/);
      // Progress on the card while it waited: bytes so far of the total, and the LSN range.
      expect(edits.some((e) => /▶ catch up from readonly… .* of .* from readonly \(\S+ → \S+\)$/m.test(e.text ?? ''))).toBe(true);
      expect(r.text).toMatch(/^Nothing was fenced or promoted: primary did not catch up from readonly within 2 s: reached \S+ \(replayed \S+\) of \S+, .* short — replay is paused on primary/);
      expect(r.text).toMatch(/Promoting primary now loses up to .* that readonly holds: LSN \S+ – \S+\./);
      expect(r.buttons?.map((b) => b.label)).toEqual(['Promote primary anyway (force)', 'Cancel']);
      expect((r.data as OpData).steps.find((s) => s.step === 'catch up from readonly')?.ok).toBe(false);
      // Nothing was fenced or promoted.
      const s = await status();
      expect(s.writable).toEqual([]);
      expect(node(s, 'primary')).toMatchObject({ role: 'replica', fenced: false });
      expect(node(s, 'standby')).toMatchObject({ up: false, fenced: false });

      // The new Confirm promotes anyway (as `force`).
      const again = await c.press(r.buttons![0].actionId);
      expect(again.failed, dump(again)).toBeFalsy();
      expect(again.title).toMatch(/^Failover done — primary is the primary/);
      expect((again.data as OpData).steps.map((x) => x.step)).not.toContain('catch up from readonly');
      expect((await status()).writable).toEqual(['primary']);
    } finally {
      c.app.services.config.FAILOVER_CATCHUP_SECONDS = 30;
    }
    const rj = await c.run('/cluster rejoin standby');
    expect(rj.failed, dump(rj)).toBeFalsy();
  });

  it('`force` promotes without catching up and loses only the LSN range the card named', async () => {
    // primary leads; standby is cut off after 10 rows, readonly receives all 500.
    await c.sql('primary', 'CREATE TABLE proyecto.forzado (id int PRIMARY KEY)');
    const before = await commitRows('primary', 'proyecto.forzado', 1, 10);
    await waitRows('standby', 'proyecto.forzado', 10);
    await cutOff('standby');
    const after = await commitRows('primary', 'proyecto.forzado', 11, 500);
    await waitRows('readonly', 'proyecto.forzado', 500);
    await c.app.services.runtime.kill(c.app.services.node('primary'));

    const card = await c.run('/cluster failover standby force');
    const m = /readonly \(no-failover node\) has received .* more WAL than standby: that WAL is lost with this failover \(`force`: no catch-up\) — LSN (\S+) – (\S+) is at risk/.exec(card.text ?? '');
    expect(m, card.text).not.toBeNull();
    expect(card.text).not.toMatch(/will first catch up/);
    const [, start, end] = m!;
    const r = await c.press(card.buttons![0].actionId);
    expect(r.failed, dump(r)).toBeFalsy();
    expect(r.title).toMatch(/^Failover done — standby is the primary/);

    const have = new Set((await c.sql<{ id: number }>('standby', 'SELECT id FROM proyecto.forzado')).map((x) => x.id));
    const all = new Map([...before, ...after]);
    const lost = [...all.keys()].filter((id) => !have.has(id));
    expect(lost.length).toBeGreaterThan(0);
    // Every lost row committed inside the named range; every row committed before it is there.
    for (const id of lost) {
      expect(lsnDiff(all.get(id), start), `row ${id}`).toBeGreaterThan(0);
      expect(lsnDiff(all.get(id), end), `row ${id}`).toBeLessThanOrEqual(0);
    }
    for (const [id, lsn] of all) if ((lsnDiff(lsn, start) ?? 1) <= 0) expect(have.has(id), `row ${id}`).toBe(true);
    for (let id = 1; id <= 10; id++) expect(have.has(id)).toBe(true);
    await waitRows('readonly', 'proyecto.forzado', have.size);
    expect(node(await status(), 'readonly')).toMatchObject({ streaming: true, upstream: 'standby' });
  });
});
