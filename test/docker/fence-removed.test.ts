// Fencing a node whose container was removed (docker rm -f): its named data volume outlives the
// container and a later /cluster up would start a new container on it, so the FENCED marker goes
// onto the volume. The failover is not refused; the recreated node comes up read-only; rejoin
// makes it a streaming replica. A node with neither container nor volume is marked too (a volume
// holding only the marker), like the local runtime's lost disk.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeConfig } from '../../src/config.js';
import { principal } from '../helpers/cluster.js';
import { createLoadTable, newDockerCluster, sh, until, upWithTwoReplicas, type DockerCluster, nodesTakingWrites } from '../helpers/docker.js';

interface Step {
  step: string;
  ms: number;
}

describe('fencing a node whose container was removed (RUNTIME=docker)', () => {
  let c: DockerCluster;
  const snapshot = () => c.app.services.snapshot();
  const nodeOf = async (name: string) => (await snapshot()).nodes.find((n) => n.name === name)!;
  const volumeExists = async (name: string) =>
    sh('docker', ['volume', 'inspect', `${c.project}_postgresql-${name}-data`]).then(() => true, () => false);

  const writers = (tag: string) => nodesTakingWrites(c, tag);

  beforeAll(async () => {
    c = await newDockerCluster('fr');
    await upWithTwoReplicas(c);
    await createLoadTable(c);
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('kill + remove the primary container → failover card → admin confirms → the volume is fenced, standby writable', async () => {
    expect(await writers('before')).toEqual(['primary']);
    await sh('docker', ['rm', '-f', await c.container('primary')]);
    expect(await c.runtime.isProvisioned(c.app.services.node('primary'))).toBe(false);
    expect(await volumeExists('primary')).toBe(true);

    const card = await c.run('/cluster failover');
    expect(card.failed, card.text).toBeFalsy();
    expect(card.buttons?.map((b) => b.label)).toEqual(['Promote standby', 'Cancel']);
    const t0 = performance.now();
    const done = await c.press(card.buttons![0].actionId, principal('alice'));
    const steps = (done.data as { steps?: Step[] } | undefined)?.steps ?? [];
    expect(done.failed, `${done.title}\n${done.text}\n${JSON.stringify(steps, null, 1)}`).toBeFalsy();
    expect(done.title).toMatch(/^Failover done — standby is the primary/);
    console.info(`[docker fence-removed] confirm → standby promoted: ${Math.round(performance.now() - t0)} ms (${steps.map((s) => `${s.step}=${s.ms}ms`).join(', ')})`);
    expect(steps.map((s) => s.step)).toEqual(expect.arrayContaining(['fence primary', 'promote standby', 'verify write']));
    expect(await c.runtime.isFenced(c.app.services.node('primary'))).toBe(true);
    // The marker is on the volume itself, where a new container will find it.
    const { stdout } = await sh('docker', ['run', '--rm', '--entrypoint', 'cat', '-v', `${c.project}_postgresql-primary-data:/v`, c.config.DOCKER_IMAGE, '/v/FENCED']);
    expect(stdout).toMatch(/failover/i);
    await until('readonly streaming from standby', async () => {
      const r = await nodeOf('readonly');
      return r.streaming && r.upstream === 'standby';
    }, 60_000);
    expect(await writers('after failover')).toEqual(['standby']);
  });

  it('/cluster up recreates the old primary on its volume: it comes up fenced and read-only', async () => {
    const up = await c.run('/cluster up');
    expect(up.failed, up.text).toBeFalsy();
    await until('the recreated primary answering', async () => (await nodeOf('primary')).up, 120_000);
    const s = await snapshot();
    expect(s.writable).toEqual(['standby']);
    expect(s.nodes.find((n) => n.name === 'primary')).toMatchObject({ role: 'replica', fenced: true });
    expect(await writers('recreated')).toEqual(['standby']);
  });

  it('/cluster rejoin primary makes it a streaming replica of the new primary', async () => {
    const r = await c.run('/cluster rejoin primary', principal('olga'));
    const steps = (r.data as { steps?: Step[] } | undefined)?.steps ?? [];
    expect(r.failed, `${r.title}\n${r.text}\n${JSON.stringify(steps, null, 1)}`).toBeFalsy();
    const s = await until('primary streaming from standby', async () => {
      const x = await snapshot();
      const p = x.nodes.find((n) => n.name === 'primary')!;
      return p.streaming && p.upstream === 'standby' ? x : null;
    }, 60_000);
    expect(s.nodes.find((n) => n.name === 'primary')).toMatchObject({ role: 'replica', fenced: false });
    expect(await writers('after rejoin')).toEqual(['standby']);
    await until('the rejoined primary has the writes made on standby', async () => {
      const rows = await c.sql<{ n: number }>('primary', "SELECT count(*)::int AS n FROM proyecto.carga WHERE nodo = 'standby'");
      return rows[0].n === 3;
    }, 30_000, 200);
  });

  it('a node with neither container nor volume is still marked (a volume holding only the marker)', async () => {
    const ghost: NodeConfig = { name: 'ghost', host: '127.0.0.1', port: 1, failover: true, index: 9 };
    expect(await volumeExists('ghost')).toBe(false);
    expect(await c.runtime.isFenced(ghost)).toBe(false);
    await c.runtime.fence(ghost, 'failover away from a lost node');
    expect(await volumeExists('ghost')).toBe(true);
    expect(await c.runtime.isFenced(ghost)).toBe(true);
    await c.runtime.unfence(ghost);
    expect(await c.runtime.isFenced(ghost)).toBe(false);
  });
});
