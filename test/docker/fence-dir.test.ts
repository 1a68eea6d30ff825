// Fencing through the fence directory (issue 18): the failover writes <node>.FENCED into the bot's
// DOCKER_FENCE_DIR, which every node mounts read-only at /fence, and turns the dead container's
// restart policy off — no one-off container is started. The node's entrypoint finds the marker:
// `docker start`, `docker restart` and a container recreated by /cluster up on the old volume all
// come up read-only. An engine restart is not exercised (it would stop every other container on
// this shared engine): what it could do is start the container, which is `docker start` here, and
// the restart policy it would obey is checked to be off.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principal } from '../helpers/cluster.js';
import { createLoadTable, dockerKill, newDockerCluster, sh, until, upWithTwoReplicas, type DockerCluster, nodesTakingWrites } from '../helpers/docker.js';

interface Step {
  step: string;
  ms: number;
  detail: string;
}

describe('fencing through the fence directory (RUNTIME=docker)', () => {
  let c: DockerCluster;
  const snapshot = () => c.app.services.snapshot();
  const nodeOf = async (name: string) => (await snapshot()).nodes.find((n) => n.name === name)!;
  const writers = (tag: string) => nodesTakingWrites(c, tag);
  const marker = (name: string) => `${c.config.fenceDir}/${name}.FENCED`;
  const restartPolicy = async (name: string) => (await sh('docker', ['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}', await c.container(name)])).stdout.trim();
  /** Is FENCED on the node's data volume (read in a throwaway container, as the engine sees the volume)? */
  const onVolume = async (name: string) =>
    sh('docker', ['run', '--rm', '--entrypoint', 'test', '-v', `${c.project}_postgresql-${name}-data:/v`, c.config.DOCKER_IMAGE, '-f', '/v/FENCED']).then(() => true, () => false);

  async function failover(from: string, to: string): Promise<Step> {
    await dockerKill(c, from);
    const card = await c.run(`/cluster failover ${to}`);
    expect(card.failed, card.text).toBeFalsy();
    const done = await c.press(card.buttons![0].actionId, principal('alice'));
    const steps = (done.data as { steps?: Step[] } | undefined)?.steps ?? [];
    expect(done.failed, `${done.title}\n${done.text}\n${JSON.stringify(steps, null, 1)}`).toBeFalsy();
    console.info(`[docker fence-dir] failover ${from} → ${to}: ${steps.map((s) => `${s.step}=${s.ms}ms`).join(', ')}`);
    const fence = steps.find((s) => s.step === `fence ${from}`);
    expect(fence, JSON.stringify(steps)).toBeDefined();
    return fence!;
  }

  beforeAll(async () => {
    c = await newDockerCluster('fd');
    await upWithTwoReplicas(c, 180_000);
    await createLoadTable(c);
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('a killed primary is fenced by a marker in the fence directory, with its restart policy off and nothing written on its volume', async () => {
    expect(await writers('before')).toEqual(['primary']);
    expect(await restartPolicy('primary')).toBe('unless-stopped');
    const fence = await failover('primary', 'standby');
    expect(fence.detail).toMatch(/marker in the fence directory, restart policy off/);
    expect(JSON.parse(readFileSync(marker('primary'), 'utf8'))).toMatchObject({ reason: expect.stringMatching(/failover to standby confirmed by alice/) });
    expect(await restartPolicy('primary')).toBe('no');
    // The data-volume marker needs a one-off container while the node is down: it was not used.
    expect(await onVolume('primary')).toBe(false);
    expect(await c.runtime.isFenced(c.app.services.node('primary'))).toBe(true);
    await until('readonly streaming from standby', async () => {
      const r = await nodeOf('readonly');
      return r.streaming && r.upstream === 'standby';
    }, 60_000);
    expect(await writers('after failover')).toEqual(['standby']);
  });

  it('the container removed and recreated by /cluster up finds the marker: read-only, also after docker restart', async () => {
    await sh('docker', ['rm', '-f', await c.container('primary')]);
    expect(await onVolume('primary')).toBe(false);
    const up = await c.run('/cluster up');
    expect(up.failed, up.text).toBeFalsy();
    await until('the recreated primary answering', async () => (await nodeOf('primary')).up, 120_000);
    expect(await nodeOf('primary')).toMatchObject({ role: 'replica', fenced: true });
    expect(await writers('recreated')).toEqual(['standby']);
    // The entrypoint copied the marker onto the volume: it holds even without the fence mount.
    expect(await onVolume('primary')).toBe(true);
    await sh('docker', ['restart', await c.container('primary')]);
    await until('the recreated primary answering again', async () => (await nodeOf('primary')).up, 120_000);
    expect(await nodeOf('primary')).toMatchObject({ role: 'replica', fenced: true });
    expect(await writers('recreated, restarted')).toEqual(['standby']);
  });

  it('/cluster rejoin primary: a streaming replica again, both markers gone, restart policy back', async () => {
    const r = await c.run('/cluster rejoin primary', principal('olga'));
    expect(r.failed, `${r.title}\n${r.text}`).toBeFalsy();
    const s = await until('primary streaming from standby', async () => {
      const x = await snapshot();
      const p = x.nodes.find((n) => n.name === 'primary')!;
      return p.streaming && p.upstream === 'standby' ? x : null;
    }, 60_000);
    expect(s.nodes.find((n) => n.name === 'primary')).toMatchObject({ role: 'replica', fenced: false });
    expect(existsSync(marker('primary'))).toBe(false);
    expect(await onVolume('primary')).toBe(false);
    expect(await restartPolicy('primary')).toBe('unless-stopped');
    expect(await writers('after rejoin')).toEqual(['standby']);
  });

  it('the other way round: docker start and docker restart of the killed standby keep it read-only; its restart policy stays off', async () => {
    await until('the rejoined primary caught up', async () => {
      const x = await nodeOf('primary');
      return x.streaming && (x.lagBytes ?? 1) === 0;
    }, 60_000, 200);
    const fence = await failover('standby', 'primary');
    expect(fence.detail).toMatch(/marker in the fence directory/);
    expect(await writers('failed back')).toEqual(['primary']);
    await sh('docker', ['start', await c.container('standby')]);
    await until('the old standby answering', async () => (await nodeOf('standby')).up, 120_000);
    expect(await nodeOf('standby')).toMatchObject({ role: 'replica', fenced: true });
    expect(await writers('standby started')).toEqual(['primary']);
    await sh('docker', ['restart', await c.container('standby')]);
    await until('the old standby answering again', async () => (await nodeOf('standby')).up, 120_000);
    expect(await writers('standby restarted')).toEqual(['primary']);
    // What an engine restart would obey: no restart policy until /cluster rejoin.
    expect(await restartPolicy('standby')).toBe('no');
    expect(existsSync(marker('standby'))).toBe(true);
  });

  it('a REJOINED left on the volume from before the fence is void: the node stays on its own timeline', async () => {
    // What an earlier rejoin or rewind leaves behind (older than the marker): it must not let the
    // fenced node follow the new primary's timeline before /cluster rejoin.
    await sh('docker', ['stop', await c.container('standby')]);
    await sh('docker', ['run', '--rm', '--entrypoint', 'touch', '-v', `${c.project}_postgresql-standby-data:/v`, c.config.DOCKER_IMAGE, '-d', '2000-01-01', '/v/REJOINED']);
    await sh('docker', ['start', await c.container('standby')]);
    await until('the old standby answering', async () => (await nodeOf('standby')).up, 120_000);
    const id = await c.container('standby');
    await expect(sh('docker', ['exec', id, 'test', '-e', '/var/lib/postgresql/data/REJOINED'])).rejects.toThrow();
    const conf = (await sh('docker', ['exec', id, 'cat', '/var/lib/postgresql/data/pgdata/clusterbot.conf'])).stdout;
    expect(conf).toMatch(/^recovery_target_timeline = 'current'$/m);
    expect(await nodeOf('standby')).toMatchObject({ role: 'replica', fenced: true });
    expect(await writers('stale rejoined')).toEqual(['primary']);
  });
});
