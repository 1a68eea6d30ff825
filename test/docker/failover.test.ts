// The failover scenario of the failover issue, on containers: `docker kill` the primary, confirm
// the failover card as an admin, the standby takes writes and the readonly follows it; `docker
// start` of the old primary brings it back fenced (exactly one node accepts a real INSERT), and
// `/cluster rejoin primary` makes it a streaming replica of the new primary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principal } from '../helpers/cluster.js';
import { createLoadTable, dockerKill, newDockerCluster, sh, until, upWithTwoReplicas, type DockerCluster, nodesTakingWrites } from '../helpers/docker.js';

interface Step {
  step: string;
  ms: number;
  ok: boolean;
  detail: string;
}


describe('failover and rejoin on containers (RUNTIME=docker)', () => {
  let c: DockerCluster;
  const snapshot = () => c.app.services.snapshot();
  const nodeOf = async (name: string) => (await snapshot()).nodes.find((n) => n.name === name)!;

  const writers = (tag: string) => nodesTakingWrites(c, tag);

  beforeAll(async () => {
    c = await newDockerCluster('fo');
    const t0 = performance.now();
    await upWithTwoReplicas(c);
    console.info(`[docker failover] /cluster up → 3 nodes streaming: ${Math.round(performance.now() - t0)} ms`);
    await createLoadTable(c);
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('docker kill the primary → /cluster failover → an admin confirms → standby writable, readonly follows', async () => {
    expect(await writers('before')).toEqual(['primary']);
    await dockerKill(c, 'primary');

    const card = await c.run('/cluster failover');
    expect(card.failed, card.text).toBeFalsy();
    expect(card.buttons?.map((b) => b.label)).toEqual(['Promote standby', 'Cancel']);
    const id = card.buttons![0].actionId;
    // A viewer cannot confirm; nothing changes.
    expect((await c.press(id, principal('victor'))).text).toMatch(/victor is a viewer; only an admin can confirm/);
    const t0 = performance.now();
    const done = await c.press(id, principal('alice'));
    const steps = (done.data as { steps?: Step[] } | undefined)?.steps ?? [];
    expect(done.failed, `${done.title}\n${done.text}\n${JSON.stringify(steps, null, 1)}`).toBeFalsy();
    expect(done.title).toMatch(/^Failover done — standby is the primary/);
    console.info(`[docker failover] confirm → standby promoted: ${Math.round(performance.now() - t0)} ms (${steps.map((s) => `${s.step}=${s.ms}ms`).join(', ')})`);
    expect(steps.map((s) => s.step)).toEqual(expect.arrayContaining(['fence primary', 'promote standby', 'verify write', 're-point readonly']));

    const s = await until('readonly streaming from standby', async () => {
      const x = await snapshot();
      const r = x.nodes.find((n) => n.name === 'readonly')!;
      return r.streaming && r.upstream === 'standby' ? x : null;
    }, 60_000);
    expect(s.writable).toEqual(['standby']);
    expect(s.nodes.find((n) => n.name === 'primary')).toMatchObject({ up: false, fenced: true });
    expect(await c.runtime.isFenced(c.app.services.node('primary'))).toBe(true);
    expect(await writers('after failover')).toEqual(['standby']);
    // The readonly replays the new primary's writes.
    await until('the readonly has the write made on standby', async () => {
      const r = await c.sql<{ n: number }>('readonly', "SELECT count(*)::int AS n FROM proyecto.carga WHERE tag = 'after failover'");
      return r[0].n === 1;
    }, 30_000, 200);
  });

  it('docker start of the old primary: it comes up fenced and read-only; exactly one node accepts writes', async () => {
    await sh('docker', ['start', await c.container('primary')]);
    await until('the old primary answering', async () => (await nodeOf('primary')).up, 120_000);
    const s = await snapshot();
    expect(s.writable).toEqual(['standby']);
    expect(s.nodes.find((n) => n.name === 'primary')).toMatchObject({ role: 'replica', fenced: true });
    expect(await writers('old primary back')).toEqual(['standby']);
    // A restart by the restart policy (or by hand) keeps it fenced too.
    await sh('docker', ['restart', await c.container('primary')]);
    await until('the old primary answering again', async () => (await nodeOf('primary')).up, 120_000);
    expect(await writers('old primary restarted')).toEqual(['standby']);
  });

  it('/cluster rejoin primary makes the old primary a streaming replica of the new primary', async () => {
    const t0 = performance.now();
    const r = await c.run('/cluster rejoin primary', principal('olga'));
    const steps = (r.data as { steps?: Step[] } | undefined)?.steps ?? [];
    expect(r.failed, `${r.title}\n${r.text}\n${JSON.stringify(steps, null, 1)}`).toBeFalsy();
    expect(r.title).toMatch(/^Rejoin primary done — primary follows standby/);
    console.info(`[docker failover] rejoin: ${Math.round(performance.now() - t0)} ms (${steps.map((s) => `${s.step}=${s.ms}ms`).join(', ')})`);
    const s = await until('primary streaming from standby', async () => {
      const x = await snapshot();
      const p = x.nodes.find((n) => n.name === 'primary')!;
      return p.streaming && p.upstream === 'standby' ? x : null;
    }, 60_000);
    expect(s.nodes.find((n) => n.name === 'primary')).toMatchObject({ role: 'replica', fenced: false });
    expect(s.nodes.find((n) => n.name === 'readonly')).toMatchObject({ streaming: true, upstream: 'standby' });
    expect(await c.runtime.isFenced(c.app.services.node('primary'))).toBe(false);
    expect(await writers('after rejoin')).toEqual(['standby']);
    await until('the rejoined primary has every write made on standby', async () => {
      const r2 = await c.sql<{ n: number }>('primary', "SELECT count(*)::int AS n FROM proyecto.carga WHERE nodo = 'standby'");
      return r2[0].n === 4;
    }, 30_000, 200);
  });
});
