// docker-compose.yml on a real engine: the seed's topology, three nodes streaming with no manual
// step, clusterbot with RUNTIME=docker, logs masked, no secret in the image, fencing that survives
// a container restart (by hand and by the restart policy).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE, REPO, newDockerCluster, sh, until, type DockerCluster } from '../helpers/docker.js';

interface StatusData {
  primary: string | null;
  nodes: Array<{ name: string; role: string; up: boolean; streaming: boolean; upstream: string | null; fenced: boolean }>;
}

const SERVICES = ['postgresql-primary', 'postgresql-standby', 'postgresql-readonly'];
// `config` prints short syntax under docker-compose 1.x and long syntax under `docker compose` v2.
const mount = (source: string, target: string) => new RegExp(`${source}:${target}(:rw)?\\n|source: ${source}\\s+target: ${target}\\n`, 'g');
const port = (published: number) => new RegExp(`127\\.0\\.0\\.1:${published}:5432|host_ip: 127\\.0\\.0\\.1\\s+target: 5432\\s+published: "?${published}"?`);

describe('docker-compose.yml on a real Docker engine', () => {
  let c: DockerCluster;
  beforeAll(async () => {
    c = await newDockerCluster('compose');
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('validates and matches the seed: services, ports, subnet, volumes, healthchecks, profile bot', async () => {
    const { stdout: text } = await c.compose('config');
    for (const s of SERVICES) expect(text).toContain(`  ${s}:`);
    // The seed's defaults live in the file; this project's env file overrides ports and subnet.
    const raw = readFileSync(`${REPO}/docker-compose.yml`, 'utf8');
    expect(raw).toMatch(/\$\{POSTGRES_PRIMARY_PORT:-5432\}:5432/);
    expect(raw).toMatch(/\$\{POSTGRES_STANDBY_PORT:-5433\}:5432/);
    expect(raw).toMatch(/\$\{POSTGRES_READONLY_PORT:-5434\}:5432/);
    expect(raw).toMatch(/subnet: \$\{DOCKER_SUBNET:-172\.20\.0\.0\/16\}/);
    expect(text).toContain(`subnet: ${c.config.DOCKER_SUBNET}`);
    for (const n of c.config.nodes) expect(text).toMatch(port(n.port));
    for (const node of ['primary', 'standby', 'readonly']) expect(text).toMatch(mount(`postgresql-${node}-data`, '/var/lib/postgresql/data'));
    // Every node (and the bot) shares the backups volume.
    expect(text.match(mount('postgresql-backups', '/backups'))?.length).toBeGreaterThanOrEqual(3);
    // ... a bind of the host folder BACKUP_DIR, the bot's own backup folder (default ./backups).
    expect(raw).toMatch(/device: \$\{BACKUP_DIR:-\.\/backups\}/);
    expect(text).toMatch(new RegExp(`postgresql-backups:\\s+driver: local\\s+driver_opts:[\\s\\S]*?device: ${c.config.backupDir}\\n`));
    expect(text).toMatch(/postgresql-network:/);
    expect(text.match(/healthcheck:/g)?.length).toBeGreaterThanOrEqual(3);
    // Passwords come from .env: none is written in the compose file itself.
    expect(raw).not.toMatch(/^\s*\w*PASSWORD:\s*(?!\$\{)\S/m);
    expect(raw).toMatch(/POSTGRES_ADMIN_PASSWORD: \$\{POSTGRES_ADMIN_PASSWORD:\?/);
    const services = (await c.compose('--profile', 'bot', 'config', '--services')).stdout.split('\n').filter(Boolean);
    // docker-compose 1.x lists profile-gated services too; the write and read endpoints only start with --profile endpoint.
    const observability = ['prometheus', 'alertmanager', ...SERVICES.map((s) => s.replace('postgresql-', 'postgres-exporter-'))];
    expect(services.filter((x) => x !== 'pgbouncer' && x !== 'haproxy' && !observability.includes(x)).sort()).toEqual(['bot', ...SERVICES].sort());
    expect(raw).toMatch(/ {2}pgbouncer:\n {4}profiles: \[endpoint\]\n/);
    expect(raw).toMatch(/ {2}haproxy:\n {4}profiles: \[endpoint, read-endpoint\]\n/);
    expect(raw).toMatch(/\$\{WRITE_ENDPOINT_PORT:-6432\}:6432/);
    const bot = (await c.compose('--profile', 'bot', 'config')).stdout;
    expect(bot).toMatch(mount('/var/run/docker.sock', '/var/run/docker.sock'));
    expect(bot).toMatch(/RUNTIME: docker/);
  });

  it('keeps passwords out of the image layers and image metadata', async () => {
    const history = (await sh('docker', ['history', '--no-trunc', '--format', '{{.CreatedBy}}', IMAGE])).stdout;
    const inspect = (await sh('docker', ['image', 'inspect', IMAGE])).stdout;
    for (const text of [history, inspect]) {
      expect(text).not.toMatch(/PASSWORD=\S/);
      expect(text).not.toContain(c.config.POSTGRES_ADMIN_PASSWORD);
      expect(text).not.toContain(c.config.POSTGRES_REPLICATOR_PASSWORD);
    }
    const env = JSON.parse(inspect)[0].Config.Env as string[];
    expect(env.filter((e) => /PASSWORD/i.test(e))).toEqual([]);
  });

  it('docker-compose up -d brings three nodes up streaming with no manual step', async () => {
    const t0 = performance.now();
    await c.compose('up', '-d');
    const snap = await until('one primary and two streaming replicas', async () => {
      const s = await c.app.services.snapshot();
      return s.primary === 'primary' && s.nodes.filter((n) => n.role === 'replica' && n.streaming).length === 2 ? s : null;
    });
    console.info(`[docker] compose up → 3 nodes streaming: ${Math.round(performance.now() - t0)} ms`);
    expect(snap.writable).toEqual(['primary']);
    const rows = await c.sql('readonly', 'SELECT count(*)::int AS n FROM proyecto.usuarios');
    expect(rows[0].n).toBe(5);
    // TLS with the certificate generated on first start, scram-sha-256 for the admin.
    const ssl = await c.runtime.exec(c.app.services.node('primary'), 'psql', ['-X', '-At', '-h', '/var/run/postgresql', '-U', 'postgres', '-d', 'postgres', '-c', "SELECT current_setting('ssl'), (SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'replicator')"]);
    expect(ssl.stdout.trim()).toBe('on|t');
    // Restrictive pg_hba.conf: the compose subnet only, scram-sha-256 (peer for the local postgres user).
    const hba = await c.runtime.exec(c.app.services.node('primary'), 'psql', ['-X', '-At', '-h', '/var/run/postgresql', '-U', 'postgres', '-d', 'postgres', '-c', "SELECT type, coalesce(address || '/' || netmask, ''), auth_method FROM pg_hba_file_rules"]);
    const rules = hba.stdout.trim().split('\n').map((l) => l.split('|'));
    expect(rules.length).toBeGreaterThanOrEqual(4);
    for (const [type, address, method] of rules) {
      if (type === 'local') expect(method).toBe('peer');
      else expect([address, method]).toEqual([`${c.config.DOCKER_SUBNET.split('/')[0]}/255.255.255.0`, 'scram-sha-256']);
    }
    // Each container reports healthy through its healthcheck.
    await until('three healthy containers', async () => {
      const states = await Promise.all(['primary', 'standby', 'readonly'].map(async (n) => (await sh('docker', ['inspect', '--format', '{{.State.Health.Status}}', await c.container(n)])).stdout.trim()));
      return states.every((h) => h === 'healthy');
    }, 120_000, 1000);
  }, 180_000);

  it('clusterbot run "/cluster status" --json with RUNTIME=docker shows one primary and two streaming replicas', async () => {
    const env = { ...c.env, LOG_TO: 'file' };
    const { stdout } = await sh(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', '/cluster status', '--json'], env, 120_000);
    const data = JSON.parse(stdout) as StatusData;
    expect(data.primary).toBe('primary');
    const byName = Object.fromEntries(data.nodes.map((n) => [n.name, n]));
    expect(byName.primary).toMatchObject({ role: 'primary', up: true });
    for (const name of ['standby', 'readonly']) expect(byName[name]).toMatchObject({ role: 'replica', up: true, streaming: true, upstream: 'primary' });
  });

  it('/cluster logs primary 50 returns the container log tail with secrets masked', async () => {
    const secret = c.config.POSTGRES_ADMIN_PASSWORD;
    // Put a password into the server log: a failing statement that contains it.
    await c.sql('primary', `SELECT '${secret}'::int`).catch(() => undefined);
    // The engine collects container output asynchronously: wait until the line is there.
    await until('the statement in the container log', async () => (await c.runtime.logs(c.app.services.node('primary'), 50)).includes(secret), 30_000);
    const reply = await c.run('/cluster logs primary 50');
    expect(reply.failed).toBeFalsy();
    const data = reply.data as { node: string; lines: number; log: string[] };
    expect(data.node).toBe('primary');
    expect(data.lines).toBeLessThanOrEqual(50);
    expect(data.log.join('\n')).toMatch(/invalid input syntax for type integer: "\*\*\*\*"/);
    expect(JSON.stringify(reply)).not.toContain(secret);
    const viewer = await c.run('/cluster logs primary', { id: 'victor', display: 'victor', platform: 'shell' });
    expect(viewer.failed).toBe(true);
    expect(viewer.text).toMatch(/needs operator/);
  });

  it('a fenced primary stays read-only across docker restart and across the restart policy', async () => {
    const primary = c.app.services.node('primary');
    await c.runtime.fence(primary, 'test: fenced by the docker suite');
    expect(await c.runtime.isFenced(primary)).toBe(true);
    // By hand: docker restart.
    await sh('docker', ['restart', '-t', '30', await c.container('primary')]);
    await c.app.services.pools.reset(primary);
    const afterRestart = await until('the fenced primary back, in recovery', async () => {
      const r = await c.sql<{ r: boolean }>('primary', 'SELECT pg_is_in_recovery() AS r');
      return r[0] ? r : null;
    });
    expect(afterRestart[0].r).toBe(true);
    // By the restart policy: the postmaster dies without `docker stop/kill`, Docker restarts it.
    const before = JSON.parse((await sh('docker', ['inspect', await c.container('primary')])).stdout)[0];
    process.kill(before.State.Pid, 'SIGKILL');
    const restarted = await until('the restart policy to bring the container back', async () => {
      const info = JSON.parse((await sh('docker', ['inspect', await c.container('primary')])).stdout)[0];
      return info.RestartCount > before.RestartCount && info.State.Running ? info : null;
    });
    expect(restarted.RestartCount).toBeGreaterThan(before.RestartCount);
    await c.app.services.pools.reset(primary);
    const snap = await until('the node answering again', async () => {
      const s = await c.app.services.snapshot();
      return s.nodes.find((n) => n.name === 'primary')!.up ? s : null;
    });
    const p = snap.nodes.find((n) => n.name === 'primary')!;
    expect(p.role).toBe('replica');
    expect(p.fenced).toBe(true);
    expect(snap.writable).toEqual([]);
    const status = (await c.run('/cluster status')).data as StatusData;
    expect(status.nodes.find((n) => n.name === 'primary')!.fenced).toBe(true);
  });
});
