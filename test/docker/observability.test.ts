// The compose profile `observability` on a real engine: Prometheus, Alertmanager and one
// postgres_exporter per node (Debian's packages, image built offline) next to the three nodes and
// the bot's own container. Every target is scraped; then `docker kill` of the primary becomes
// FIRING alerts in Alertmanager's API — from the bot's metrics (ClusterbotPrimaryDown) and from the
// exporter's (PostgresPrimaryDown). Its own compose project, ports and subnet; always removed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/cluster.js';
import { dockerKill, newDockerCluster, sh, until, type DockerCluster } from '../helpers/docker.js';

const BOT_IMAGE = process.env.BOT_IMAGE || 'clusterbot/bot:latest';
const OBSERVABILITY_IMAGE = process.env.OBSERVABILITY_IMAGE || 'clusterbot/observability:latest';

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: { state: string };
}

interface Target {
  labels: Record<string, string>;
  health: string;
  lastError: string;
}

describe('docker-compose --profile observability: a killed primary fires in Alertmanager', () => {
  let c: DockerCluster;
  let prometheus = '';
  let alertmanager = '';
  const getJson = async <T>(url: string): Promise<T> => {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return (await res.json()) as T;
  };
  const query = async (promql: string) =>
    (await getJson<{ data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(`${prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`)).data.result;
  const alerts = () => getJson<AmAlert[]>(`${alertmanager}/api/v2/alerts?active=true&silenced=false&inhibited=true`);
  const describeAlerts = (list: AmAlert[]) => list.map((a) => `${a.labels.alertname}{node=${a.labels.node ?? ''}} ${a.status.state}`).join(', ') || 'no alerts';

  beforeAll(async () => {
    for (const [image, how] of [[BOT_IMAGE, 'bash scripts/docker-prereqs.sh'], [OBSERVABILITY_IMAGE, 'bash scripts/observability-prereqs.sh']]) {
      await sh('docker', ['image', 'inspect', image], {}, 20_000).catch(() => {
        throw new Error(`the image ${image} is not on this engine: run \`${how}\` (builds it without a registry)`);
      });
    }
    const [httpPort, promPort, amPort] = [await freePort(), await freePort(), await freePort()];
    prometheus = `http://127.0.0.1:${promPort}`;
    alertmanager = `http://127.0.0.1:${amPort}`;
    c = await newDockerCluster('obs', {
      composeEnv: { BOT_IMAGE, OBSERVABILITY_IMAGE, HTTP_PORT: String(httpPort), PROMETHEUS_PORT: String(promPort), ALERTMANAGER_PORT: String(amPort) },
    });
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('scrapes the bot and the three exporters, and keeps no password in the Prometheus or Alertmanager containers', async () => {
    await c.compose('--profile', 'bot', '--profile', 'observability', 'up', '-d', '--no-build');
    let last: Target[] = [];
    await until(
      'the bot and three postgres exporters up in Prometheus',
      async () => {
        last = (await getJson<{ data: { activeTargets: Target[] } }>(`${prometheus}/api/v1/targets`)).data.activeTargets;
        const up = (job: string) => last.filter((t) => t.labels.job === job && t.health === 'up').length;
        return up('clusterbot') === 1 && up('postgres') === 3;
      },
      240_000,
      1000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; targets: ${last.map((t) => `${t.labels.job}/${t.labels.node ?? t.labels.instance} ${t.health} ${t.lastError}`).join('; ')}`);
    });
    // The rules are loaded, and the history the "primary down" alerts look back on is there.
    const rules = await getJson<{ data: { groups: Array<{ name: string; rules: unknown[] }> } }>(`${prometheus}/api/v1/rules`);
    expect(rules.data.groups.map((g) => g.name).sort()).toEqual(['clusterbot.alerts', 'clusterbot.recording', 'postgres.alerts', 'postgres.recording']);
    await until('every exporter connected (pg_up 1) and the primary writable in both sources', async () => {
      const [up, bot, pg] = await Promise.all([query('pg_up == 1'), query('clusterbot_node_role{node="primary", role="primary"} == 1'), query('postgres:writable{node="primary"} == 1')]);
      return up.length === 3 && bot.length === 1 && pg.length === 1;
    }, 120_000, 1000);
    expect(describeAlerts((await alerts()).filter((a) => /PrimaryDown$/.test(a.labels.alertname)))).toBe('no alerts');
    for (const service of ['prometheus', 'alertmanager']) {
      const id = (await sh('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=${c.project}`, '--filter', `label=com.docker.compose.service=${service}`])).stdout.trim();
      expect(id, service).toMatch(/^[0-9a-f]+$/);
      expect((await sh('docker', ['inspect', id])).stdout).not.toContain(c.config.POSTGRES_ADMIN_PASSWORD);
    }
  }, 480_000);

  it('docker kill of the primary: ClusterbotPrimaryDown and PostgresPrimaryDown are FIRING in /api/v2/alerts', async () => {
    const t0 = performance.now();
    await dockerKill(c, 'primary');
    let seen: AmAlert[] = [];
    const firing = (name: string) => seen.find((a) => a.labels.alertname === name && a.labels.node === 'primary' && a.status.state === 'active');
    await until(
      'ClusterbotPrimaryDown and PostgresPrimaryDown firing for primary in Alertmanager',
      async () => {
        seen = await alerts();
        return firing('ClusterbotPrimaryDown') && firing('PostgresPrimaryDown');
      },
      240_000,
      1000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; Alertmanager had: ${describeAlerts(seen)}`);
    });
    console.info(`[docker] docker kill of the primary → both alerts firing in Alertmanager: ${Math.round(performance.now() - t0)} ms (5 s scrapes, for: 15s)`);
    for (const name of ['ClusterbotPrimaryDown', 'PostgresPrimaryDown']) {
      expect(firing(name)!.labels.severity).toBe('critical');
      expect(firing(name)!.annotations.summary).toBe('Primary primary is down');
    }
    // Inhibition: the dead primary is not also a "node down" notification.
    const pgDown = seen.find((a) => a.labels.alertname === 'PostgresDown' && a.labels.node === 'primary');
    if (pgDown) expect(pgDown.status.state).toBe('suppressed');
    // The replicas were not reported dead.
    expect(seen.filter((a) => /Down$/.test(a.labels.alertname) && a.labels.node && a.labels.node !== 'primary').map((a) => a.labels.alertname)).toEqual([]);
  }, 300_000);
});
