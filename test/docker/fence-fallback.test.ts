// The fallback of the Docker fence (issue 18): nodes started from an older compose file have no
// /fence mount, and nodes of an older image do not read it; a failover then fences the dead primary
// with the FENCED marker on its data volume (a one-off container), as before, and the card says so.
// `docker start` brings it back read-only.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principal } from '../helpers/cluster.js';
import { IMAGE, REPO, createLoadTable, dockerKill, newDockerCluster, sh, twoStreamingReplicas, until, upWithTwoReplicas, type DockerCluster, nodesTakingWrites } from '../helpers/docker.js';

interface Step {
  step: string;
  detail: string;
}

describe('fencing nodes of an older compose file without the fence directory (RUNTIME=docker)', () => {
  let c: DockerCluster;
  let oldCompose = '';
  const snapshot = () => c.app.services.snapshot();
  const nodeOf = async (name: string) => (await snapshot()).nodes.find((n) => n.name === name)!;

  beforeAll(async () => {
    c = await newDockerCluster('ff');
    // docker-compose.yml as it was before the fence directory: no /fence mount in the nodes.
    const current = readFileSync(join(REPO, 'docker-compose.yml'), 'utf8');
    const old = current
      .split('\n')
      .filter((l) => !l.includes('postgresql-fence:/fence'))
      .join('\n')
      // Written elsewhere: build contexts stay the repository's.
      .replace('context: ./postgres', `context: ${join(REPO, 'postgres')}`)
      .replace('context: .\n', `context: ${REPO}\n`)
      .replace('context: ./observability', `context: ${join(REPO, 'observability')}`);
    expect(old).not.toContain(':/fence');
    oldCompose = join(c.home, 'docker-compose.old.yml');
    writeFileSync(oldCompose, old);
    await c.compose('-f', oldCompose, 'up', '-d');
    await twoStreamingReplicas(c, 180_000, 'one primary and two streaming replicas');
    const mounts = (await sh('docker', ['inspect', '-f', '{{range .Mounts}}{{.Destination}} {{end}}', await c.container('primary')])).stdout;
    expect(mounts).not.toContain('/fence');
    await createLoadTable(c);
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('a failover fences the killed primary on its data volume and says so on the card; docker start brings it back read-only', async () => {
    await dockerKill(c, 'primary');
    const card = await c.run('/cluster failover');
    expect(card.failed, card.text).toBeFalsy();
    const done = await c.press(card.buttons![0].actionId, principal('alice'));
    const steps = (done.data as { steps?: Step[] } | undefined)?.steps ?? [];
    expect(done.failed, `${done.title}\n${done.text}\n${JSON.stringify(steps, null, 1)}`).toBeFalsy();
    const fence = steps.find((s) => s.step === 'fence primary');
    expect(fence?.detail).toMatch(/marker on its data volume \(the container mounts no \/fence: an older compose file or container\), restart policy off/);
    expect(done.text ?? '').not.toMatch(/fence directory/);
    const { stdout } = await sh('docker', ['run', '--rm', '--entrypoint', 'cat', '-v', `${c.project}_postgresql-primary-data:/v`, c.config.DOCKER_IMAGE, '/v/FENCED']);
    expect(stdout).toMatch(/failover to standby confirmed by alice/);
    await sh('docker', ['start', await c.container('primary')]);
    await until('the old primary answering', async () => (await nodeOf('primary')).up, 120_000);
    expect(await nodeOf('primary')).toMatchObject({ role: 'replica', fenced: true });
    expect(await nodesTakingWrites(c, 'old primary back')).toEqual(['standby']);
  });
});

describe('fencing nodes of an image that does not read the fence directory (RUNTIME=docker)', () => {
  let c: DockerCluster | undefined;
  // The node image without its "reads /fence" label: what an image built before the fence looks like to the bot.
  const oldImage = `clusterbot/postgres:cbtest-nofence-${process.pid}`;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clusterbot-nofence-'));
    try {
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${IMAGE}\nLABEL clusterbot.fence-dir=""\n`);
      await sh('docker', ['build', '-q', '-t', oldImage, dir], {}, 120_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
  afterAll(async () => {
    await c?.destroy();
    await sh('docker', ['rmi', '-f', oldImage]).catch(() => undefined);
  });

  it('/cluster up on that image mounts /fence, yet a failover fences on the data volume and says why', async () => {
    c = await newDockerCluster('fo2', { env: { DOCKER_IMAGE: oldImage } });
    const cl = c;
    await upWithTwoReplicas(cl, 180_000);
    await createLoadTable(cl);
    await dockerKill(cl, 'primary');
    const card = await cl.run('/cluster failover');
    const done = await cl.press(card.buttons![0].actionId, principal('alice'));
    const steps = (done.data as { steps?: Step[] } | undefined)?.steps ?? [];
    expect(done.failed, `${done.title}\n${done.text}\n${JSON.stringify(steps, null, 1)}`).toBeFalsy();
    expect(steps.find((s) => s.step === 'fence primary')?.detail).toMatch(new RegExp(`marker on its data volume \\(its image ${oldImage} predates the fence directory\\)`));
    await sh('docker', ['start', await cl.container('primary')]);
    await until('the old primary answering', async () => (await cl.app.services.snapshot()).nodes.find((n) => n.name === 'primary')!.up, 120_000);
    expect(await nodesTakingWrites(cl, 'old image, old primary back')).toEqual(['standby']);
  });
});
