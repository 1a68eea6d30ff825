// docker-compose.patroni.yml on a real Docker engine (issue 11, "a compose file that runs the
// Patroni variant"): etcd + three Patroni members in containers, published on free loopback ports
// in a free subnet under a unique project name; the bot runs on the host with CLUSTER_BACKEND=patroni
// (`node bin/clusterbot.js run "/cluster status" --json`), takes a verified full backup from a replica
// over the published ports into the BACKUP_DIR the members archive WAL into (a bind), restore-checks
// it, and a button-confirmed switchover through the router moves the leader. `docker-compose down -v`
// always runs afterwards.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { postgresOsUser, runProgram } from '../../src/runtime/process.js';
import { findPgBin } from '../../src/runtime/pg-binaries.js';
import type { Principal, Surface } from '../../src/core/context.js';
import { botTestEnv, freePort } from '../helpers/cluster.js';
import { REPO, composeCommand, freeSubnet, removeProject, sh, until } from '../helpers/docker.js';

const PATRONI_IMAGE = process.env.PATRONI_IMAGE || 'clusterbot-patroni:15';
const BASE = 'debian:bookworm-slim';
const NODES = ['primary', 'standby', 'readonly'] as const;
const BIN = join(REPO, 'bin/clusterbot.js');
const DIST = join(REPO, 'dist/src/cli.js');
const execFileP = promisify(execFile);
/** The host's postgres account: the image takes its ids, so the members write the shared backups folder as it. */
const PG_USER = postgresOsUser();
const BUILD_ARGS = PG_USER ? { PG_UID: String(PG_USER.uid), PG_GID: String(PG_USER.gid) } : { PG_UID: '', PG_GID: '' };

interface StatusData {
  backend: string;
  primary: string | null;
  nodes: Array<{ name: string; role: string; up: boolean; streaming: boolean; upstream: string | null }>;
  patroni: { leader: string | null; members: Array<{ name: string; role: string; state: string }>; protections: Array<{ name: string; state: string }> | null };
}

/** What the image is built from: postgres/patroni/*, the seed's bootstrap SQL and the postgres ids. */
function imageHash(): string {
  const h = createHash('sha256').update(`uid=${BUILD_ARGS.PG_UID} gid=${BUILD_ARGS.PG_GID}\0`);
  const files = [...readdirSync(join(REPO, 'postgres/patroni')).sort().map((f) => `postgres/patroni/${f}`), 'postgres/init/01-bootstrap.sql', 'postgres/tls.sh'];
  for (const f of files) h.update(f).update('\0').update(readFileSync(join(REPO, f))).update('\0');
  return h.digest('hex').slice(0, 16);
}

/** Builds the Patroni image unless one with the same source hash is already on the engine. */
async function ensurePatroniImage(): Promise<void> {
  const hash = imageHash();
  const have = await sh('docker', ['image', 'inspect', '--format', '{{index .Config.Labels "clusterbot.patroni.hash"}}', PATRONI_IMAGE], {}, 20_000)
    .then((r) => r.stdout.trim())
    .catch(() => '');
  if (have === hash) return;
  try {
    await sh('docker', ['image', 'inspect', BASE], {}, 20_000);
  } catch {
    throw new Error(`building ${PATRONI_IMAGE} needs the base image ${BASE}: run \`sudo bash scripts/docker-prereqs.sh\` (pulls it, or builds it with debootstrap)`);
  }
  const t0 = Date.now();
  const args = Object.entries(BUILD_ARGS).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
  await sh('docker', ['build', '-q', ...args, '--label', `clusterbot.patroni.hash=${hash}`, '-t', PATRONI_IMAGE, '-f', 'postgres/patroni/Dockerfile', 'postgres'], {}, 600_000);
  console.log(`[patroni-compose] built ${PATRONI_IMAGE} (${hash}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

describe('docker-compose.patroni.yml on a real Docker engine', () => {
  const project = `cbtestpatroni${randomBytes(3).toString('hex')}`;
  const home = mkdtempSync(join(tmpdir(), 'clusterbot-patroni-compose-'));
  const envFile = join(home, 'compose.env');
  const backups = join(home, 'backups');
  const tls = join(home, 'tls');
  let composeEnv: Record<string, string> = {};
  let botEnv: Record<string, string> = {};
  let app: App | null = null;
  let subnet = '';
  const pgPorts: number[] = [];
  const apiPorts: number[] = [];

  const compose = async (...args: string[]) => {
    const [cmd, ...pre] = await composeCommand();
    return sh(cmd, [...pre, '-f', 'docker-compose.patroni.yml', '--project-name', project, '--env-file', envFile, ...args], composeEnv, 300_000);
  };
  /** The built CLI on the host, as a user would run it. */
  const cli = async (text: string): Promise<StatusData> => {
    const { stdout } = await execFileP(process.execPath, [BIN, 'run', text, '--json'], { cwd: REPO, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...botEnv, HTTP_PORT: String(await freePort()) }, timeout: 60_000 });
    return JSON.parse(stdout) as StatusData;
  };
  const healthy = (s: StatusData, leader: string) =>
    s.primary === leader &&
    s.patroni?.leader === leader &&
    s.nodes.filter((n) => n.name !== leader && n.role === 'replica' && n.up && n.streaming && n.upstream === leader).length === 2 &&
    // Patroni writes a member's state into etcd once per HA loop (loop_wait 10 s): a replica that already
    // streams can still be listed as 'stopped' or 'starting' until its next loop.
    s.patroni.members.length === 3 && s.patroni.members.every((m) => m.state === 'running');

  /** Polls the CLI until `leader` leads two streaming replicas and Patroni lists every member running; on timeout says what it last saw. */
  const waitHealthy = async (leader: string, timeoutMs: number): Promise<StatusData> => {
    let last = 'nothing yet';
    try {
      return await until(`${leader} leading two streaming replicas, every Patroni member running, in \`clusterbot run "/cluster status" --json\``, async () => {
        const s = await cli('/cluster status');
        last = `leader ${s.patroni?.leader}; ` + s.nodes.map((n) => `${n.name} ${n.role} up=${n.up} streaming=${n.streaming} from ${n.upstream}`).join('; ') +
          `; Patroni: ${(s.patroni?.members ?? []).map((m) => `${m.name} ${m.role} ${m.state}`).join(', ')}`;
        return healthy(s, leader) && s;
      }, timeoutMs, 1000);
    } catch (e) {
      const ps = await compose('ps').then((r) => r.stdout, () => '');
      const logs = await compose('logs', '--no-color', '--tail', '15').then((r) => r.stdout, () => '');
      throw new Error(`${(e as Error).message}; last status: ${last}\n${ps}\n${logs}`);
    }
  };

  beforeAll(async () => {
    try {
      await sh('docker', ['info', '--format', '{{.ServerVersion}}'], {}, 20_000);
    } catch (e) {
      throw new Error(`this suite needs a Docker engine and none answers (${(e as Error).message.split('\n')[0]}): run \`sudo bash scripts/docker-prereqs.sh\`, or start your Docker engine`);
    }
    if (!existsSync(DIST)) throw new Error('dist/ is missing: run `npm run build` (scripts/test.sh does it)');
    await ensurePatroniImage();
    while (pgPorts.length + apiPorts.length < 6) {
      const p = await freePort();
      if (pgPorts.includes(p) || apiPorts.includes(p)) continue;
      (pgPorts.length < 3 ? pgPorts : apiPorts).push(p);
    }
    subnet = await freeSubnet();
    // The bind of the shared backups folder: the members push WAL into the pgBackRest repository there.
    chmodSync(home, 0o755);
    for (const d of [backups, join(backups, 'pgbackrest')]) {
      mkdirSync(d, { mode: 0o750 });
      if (PG_USER) chownSync(d, PG_USER.uid, PG_USER.gid);
    }
    // The bind of TLS_DIR: the first member makes the cluster CA in it; the bot verifies the members with its ca.crt.
    mkdirSync(tls, { mode: 0o755 });
    if (PG_USER) chownSync(tls, PG_USER.uid, PG_USER.gid);
    const secrets = {
      POSTGRES_ADMIN_PASSWORD: `adm${randomBytes(10).toString('hex')}`,
      POSTGRES_REPLICATOR_PASSWORD: `rep${randomBytes(10).toString('hex')}`,
      PATRONI_PASSWORD: `pat${randomBytes(10).toString('hex')}`,
    };
    composeEnv = {
      COMPOSE_PROJECT_NAME: project,
      PATRONI_IMAGE,
      PATRONI_SUBNET: subnet,
      DOCKER_BIND_ADDRESS: '127.0.0.1',
      BACKUP_DIR: backups,
      TLS_DIR: tls,
      POSTGRES_UID: BUILD_ARGS.PG_UID,
      POSTGRES_GID: BUILD_ARGS.PG_GID,
      ...Object.fromEntries(NODES.map((n, i) => [`POSTGRES_${n.toUpperCase()}_PORT`, String(pgPorts[i])])),
      ...Object.fromEntries(NODES.map((n, i) => [`PATRONI_${n.toUpperCase()}_API_PORT`, String(apiPorts[i])])),
      ...secrets,
    };
    writeFileSync(envFile, Object.entries(composeEnv).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
    botEnv = {
      ...(await botTestEnv()),
      CLUSTERBOT_HOME: home,
      BACKUP_DIR: backups,
      TLS_DIR: tls,
      CLUSTER_BACKEND: 'patroni',
      PATRONI_URLS: apiPorts.map((p) => `http://127.0.0.1:${p}`).join(','),
      PATRONI_USERNAME: 'clusterbot',
      PATRONI_PASSWORD: secrets.PATRONI_PASSWORD,
      CLUSTER_NODES: `primary:${pgPorts[0]},standby:${pgPorts[1]},readonly:${pgPorts[2]}:nofailover`,
      POSTGRES_ADMIN_PASSWORD: secrets.POSTGRES_ADMIN_PASSWORD,
      POSTGRES_REPLICATOR_PASSWORD: secrets.POSTGRES_REPLICATOR_PASSWORD,
    };
  }, 660_000);

  afterAll(async () => {
    await app?.close().catch(() => undefined);
    if (composeEnv.COMPOSE_PROJECT_NAME) {
      const t0 = Date.now();
      await compose('down', '-v', '--remove-orphans').catch((e: Error) => console.log(`[patroni-compose] down -v failed: ${e.message.split('\n')[0]}`));
      await removeProject(project);
      console.log(`[patroni-compose] down -v in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    rmSync(home, { recursive: true, force: true });
  }, 180_000);

  it('validates: etcd + three members, ports, subnet and image from the env, no password in the file', async () => {
    const { stdout: text } = await compose('config');
    for (const s of ['etcd', ...NODES]) expect(text).toContain(`  ${s}:`);
    expect(text).toContain(`subnet: ${subnet}`);
    for (const p of [...pgPorts, ...apiPorts]) expect(text).toMatch(new RegExp(`127\\.0\\.0\\.1:${p}:(5432|8008)|published: "?${p}"?`));
    expect(text).toContain(`image: ${PATRONI_IMAGE}`);
    expect(text).toMatch(/NOFAILOVER: "true"/);
    const raw = readFileSync(join(REPO, 'docker-compose.patroni.yml'), 'utf8');
    expect(raw).not.toMatch(/^\s*\w*PASSWORD:\s*(?!\$\{)\S/m);
    expect(raw).toMatch(/subnet: \$\{PATRONI_SUBNET:-/);
    // primary bootstraps: the other members wait for it to be healthy.
    expect(text.match(/primary:\s+condition: service_healthy/g)?.length).toBe(2);
  });

  it('comes up with one leader, two streaming replicas and the seed schema; the CLI status says so', async () => {
    const t0 = Date.now();
    await compose('up', '-d');
    const tUp = Date.now();
    const status = await waitHealthy('primary', 150_000);
    console.log(`[patroni-compose] up -d ${((tUp - t0) / 1000).toFixed(1)} s; leader + 2 streaming replicas seen by the CLI after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(status.backend).toBe('patroni');
    expect(status.patroni.members.map((m) => `${m.name}:${m.role}:${m.state}`).sort()).toEqual(['primary:leader:running', 'readonly:replica:running', 'standby:replica:running']);
    // The compose file's protection against a stalled leader winning a race from an older timeline (docs/patroni.md).
    expect(status.patroni.protections?.find((p) => p.name === 'check_timeline')?.state).toBe('on');
    app = await createApp(loadConfig({ ...botEnv, HTTP_PORT: String(await freePort()) }));
    for (const node of NODES) {
      const rows = await until(`the seed rows on ${node}`, async () => {
        const r = (await app!.services.pools.query(app!.services.node(node), 'SELECT count(*)::int AS n FROM proyecto.usuarios')).rows as Array<{ n: number }>;
        return r[0].n === 5 && r;
      }, 30_000);
      expect(rows[0].n).toBe(5);
    }
  }, 240_000);

  it('admits TLS only: a plain connection is refused, the replicas stream over verify-full TLS', async () => {
    expect(app).not.toBeNull();
    const psql = `${findPgBin(process.env.PG_BIN)}/psql`;
    const plain = await runProgram(psql, ['-X', '-At', '-d', `host=127.0.0.1 port=${pgPorts[0]} user=admin dbname=proyecto_db sslmode=disable`, '-c', 'SELECT 1'], {
      env: { PGPASSWORD: botEnv.POSTGRES_ADMIN_PASSWORD, PGCONNECT_TIMEOUT: '5' },
    });
    expect(plain.stderr).toMatch(/no pg_hba\.conf entry for host .*no encryption/);
    const rows = (await app!.services.pools.query(app!.services.node('primary'), 'SELECT r.application_name, s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) ORDER BY 1')).rows as Array<{ application_name: string; ssl: boolean }>;
    expect(rows.map((r) => `${r.application_name}:${r.ssl}`)).toEqual(['readonly:true', 'standby:true']);
    const [{ conninfo }] = (await app!.services.pools.query(app!.services.node('standby'), "SELECT current_setting('primary_conninfo') AS conninfo")).rows as Array<{ conninfo: string }>;
    expect(conninfo).toMatch(/sslmode='?verify-full'?/);
  });

  it('the members push WAL into the shared repository; a backup taken in the leader\'s container is listed, verified and restore-checked by the bot on the host', async () => {
    expect(app).not.toBeNull();
    const surface: Surface = { platform: 'shell', channel: 'test' };
    const run = (text: string) => app!.router.handle(text, { id: 'tester', display: 'tester', platform: 'shell' }, surface);
    const [{ seg }] = (await app!.services.pools.query(app!.services.node('primary'), 'SELECT pg_walfile_name(pg_switch_wal()) AS seg')).rows as Array<{ seg: string }>;
    const dir = join(backups, 'pgbackrest', 'archive', 'clusterbot', '15-1', seg.slice(0, 16));
    const pushed = new RegExp(`^${seg}-[0-9a-f]{40}\\.zst$`);
    const file = await until(`${seg} pushed into ${dir} by the primary container`, async () => (existsSync(dir) ? readdirSync(dir).find((f) => pushed.test(f)) : undefined), 60_000);
    if (PG_USER) expect(statSync(join(dir, file)).uid).toBe(PG_USER.uid);

    // The bot cannot reach a container's data directory: the backup runs where the leader's files are.
    const t0 = Date.now();
    const r = await compose('exec', '-T', 'primary', 'pgbackrest', '--stanza=clusterbot', '--type=full', 'backup');
    console.log(`[patroni-compose] pgbackrest backup in the leader's container: ${((Date.now() - t0) / 1000).toFixed(1)} s ${r.stderr.trim()}`);
    const list = await run('/cluster backups');
    const [entry] = (list.data as { backups: Array<{ id: string; kind: string }> }).backups;
    expect(entry, list.text).toMatchObject({ kind: 'full' });
    const verify = await run(`/cluster verify ${entry.id}`);
    expect(verify.failed, verify.text).toBeFalsy();
    const check = await run(`/cluster restore-check ${entry.id}`);
    expect(check.failed, check.text).toBeFalsy();
    expect(check.data).toMatchObject({ backup: entry.id, usuarios: 5 });
  }, 240_000);

  it('a button-confirmed /cluster switchover through the router moves the leader', async () => {
    expect(app).not.toBeNull();
    const surface: Surface = { platform: 'shell', channel: 'test' };
    const who = (id: string): Principal => ({ id, display: id, platform: 'shell' });
    const card = await app!.router.handle('/cluster switchover', who('tester'), surface);
    expect(card.failed).toBeFalsy();
    expect(card.title).toBe('Confirm: Switchover primary → standby via Patroni');
    const confirm = card.buttons!.find((b) => b.actionId.startsWith('cb:confirm:'))!;
    const refused = await app!.router.press(confirm.actionId, who('victor'), surface);
    expect(refused.failed).toBe(true);
    const t0 = Date.now();
    const done = await app!.router.press(confirm.actionId, who('alice'), surface);
    console.log(`[patroni-compose] switchover: ${done.title}; click → result ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(done.failed).toBeFalsy();
    expect(done.data).toMatchObject({ ok: true, from: 'primary', to: 'standby', primary: 'standby' });
    const status = await waitHealthy('standby', 90_000);
    console.log(`[patroni-compose] old leader streaming from standby ${((Date.now() - t0) / 1000).toFixed(1)} s after the click`);
    expect(status.nodes.find((n) => n.name === 'primary')).toMatchObject({ role: 'replica', streaming: true, upstream: 'standby' });
  }, 180_000);
});
