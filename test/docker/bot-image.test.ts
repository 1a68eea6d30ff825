// The bot image (bot.Dockerfile, built offline by scripts/docker-prereqs.sh) really runs:
// `docker-compose --profile bot up -d` starts clusterbot next to the three nodes with RUNTIME=docker,
// its /healthz answers on the published port, `docker exec … clusterbot run "/cluster status" --json`
// lists the three nodes, and a failover confirmed from inside the bot's container fences the dead
// primary through the fence directory the bot service mounts (issue 18: the bot in its container
// can write the marker too). Its own compose project, ports and subnet; always removed.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/cluster.js';
import { createLoadTable, dockerKill, newDockerCluster, sh, until, type DockerCluster, nodesTakingWrites } from '../helpers/docker.js';

const BOT_IMAGE = process.env.BOT_IMAGE || 'clusterbot/bot:latest';

interface StatusData {
  primary: string | null;
  nodes: Array<{ name: string; role: string; up: boolean; streaming: boolean; fenced: boolean }>;
}

interface Step {
  step: string;
  ms: number;
  detail: string;
}

describe('the bot image next to the nodes (docker-compose --profile bot)', () => {
  let c: DockerCluster;
  let httpPort: number;
  let bot = '';
  /** `clusterbot run … --json` inside the bot's container, parsed. */
  const inBot = async <T>(text: string, ...flags: string[]): Promise<T> => {
    const { stdout } = await sh('docker', ['exec', bot, 'clusterbot', 'run', text, '--json', ...flags], {}, 180_000);
    return JSON.parse(stdout) as T;
  };

  beforeAll(async () => {
    try {
      await sh('docker', ['image', 'inspect', BOT_IMAGE], {}, 20_000);
    } catch {
      throw new Error(`the bot image ${BOT_IMAGE} is not on this engine: run \`bash scripts/docker-prereqs.sh\` (builds it without a registry)`);
    }
    httpPort = await freePort();
    // The host-side app of the helper reads the same nodes through the published ports.
    c = await newDockerCluster('bot', { composeEnv: { BOT_IMAGE, HTTP_PORT: String(httpPort) } });
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('docker-compose --profile bot up -d: the bot container runs with RUNTIME=docker and /healthz answers', async () => {
    await c.compose('--profile', 'bot', 'up', '-d', '--no-build');
    bot = (await sh('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${c.project}`, '--filter', 'label=com.docker.compose.service=bot'])).stdout.trim();
    expect(bot).toMatch(/^[0-9a-f]+$/);
    const env = (await sh('docker', ['inspect', '-f', '{{range .Config.Env}}{{println .}}{{end}}', bot])).stdout;
    expect(env).toMatch(/^RUNTIME=docker$/m);
    expect(env).toMatch(new RegExp(`^COMPOSE_PROJECT_NAME=${c.project}$`, 'm'));
    const health = await until('/healthz of the bot container answering 200', async () => {
      const state = (await sh('docker', ['inspect', '-f', '{{.State.Status}} restarts={{.RestartCount}}', bot])).stdout.trim();
      const r = await fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(3000) }).catch((e: Error) => {
        throw new Error(`bot container ${state}; /healthz: ${e.message}`);
      });
      if (r.status !== 200) throw new Error(`bot container ${state}; /healthz ${r.status}: ${await r.text()}`);
      return r.json() as Promise<{ status: string }>;
    }, 240_000, 1000);
    expect(health.status).toBe('ok');
  }, 300_000);

  it('docker exec … clusterbot run "/cluster status" --json lists the three nodes: one primary, two streaming replicas', async () => {
    const status = await until('three nodes up in the bot container\'s status', async () => {
      const s = await inBot<StatusData>('/cluster status');
      if (!(s.primary === 'primary' && s.nodes.length === 3 && s.nodes.filter((n) => n.streaming).length === 2)) {
        throw new Error(`last status: ${JSON.stringify(s.nodes.map((n) => [n.name, n.role, n.up, n.streaming]))}`);
      }
      return s;
    }, 180_000, 2000);
    expect(status.nodes.map((n) => n.name).sort()).toEqual(['primary', 'readonly', 'standby']);
    expect(status.nodes.find((n) => n.name === 'primary')).toMatchObject({ role: 'primary', up: true });
  }, 240_000); // the wait's own deadline (180 s) must end first, so a timeout says what it last saw

  it('a failover confirmed inside the bot container fences the dead primary through the mounted fence directory', async () => {
    await createLoadTable(c);
    await until('the table on both replicas', async () => {
      for (const n of ['standby', 'readonly']) await c.sql(n, 'SELECT 1 FROM proyecto.carga LIMIT 1');
      return true;
    }, 30_000, 200);
    await dockerKill(c, 'primary');
    const done = await inBot<{ ok?: boolean; newPrimary?: string; steps?: Step[] }>('/cluster failover', '--confirm');
    expect(done, JSON.stringify(done)).toMatchObject({ ok: true, newPrimary: 'standby' });
    const fence = done.steps?.find((s) => s.step === 'fence primary');
    expect(fence?.detail, JSON.stringify(done.steps)).toMatch(/marker in the fence directory/);
    // Written by the bot in its container, into the host folder every node mounts at /fence.
    expect(existsSync(`${c.config.fenceDir}/primary.FENCED`)).toBe(true);
    expect((await sh('docker', ['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}', await c.container('primary')])).stdout.trim()).toBe('no');
    await sh('docker', ['start', await c.container('primary')]);
    await until('the old primary answering', async () => (await c.app.services.snapshot()).nodes.find((n) => n.name === 'primary')!.up, 120_000);
    expect(await nodesTakingWrites(c, 'after failover in the bot container')).toEqual(['standby']);
  });
});
