// A real Docker cluster per test file: its own compose project name, free loopback ports, its own
// subnet and passwords; containers, volumes and network removed afterwards (by project label).
// No engine is a failure, never a skip: scripts/test.sh runs scripts/docker-prereqs.sh first.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Principal, Surface } from '../../src/core/context.js';
import type { Reply } from '../../src/chat/reply.js';
import type { DockerRuntime } from '../../src/runtime/docker.js';
import { postgresOsUser } from '../../src/runtime/process.js';
import { expect } from 'vitest';
import { freePort } from './cluster.js';
import { until } from './wait.js';

const run = promisify(execFile);
export const REPO = resolve(import.meta.dirname, '../..');
export const IMAGE = process.env.DOCKER_IMAGE || 'clusterbot/postgres:15';

export async function sh(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 300_000): Promise<{ stdout: string; stderr: string }> {
  return run(cmd, args, { cwd: REPO, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 });
}

/** Throws (the suite fails) with how to get an engine and the image; never skips. */
export async function requireDocker(): Promise<void> {
  const how = 'run `sudo bash scripts/docker-prereqs.sh` (installs docker.io and docker-compose, starts dockerd, builds the images without a registry), or start your Docker engine';
  try {
    await sh('docker', ['info', '--format', '{{.ServerVersion}}'], {}, 20_000);
  } catch (e) {
    throw new Error(`The Docker suite needs a Docker engine and none answers (${(e as Error).message.split('\n')[0]}): ${how}`);
  }
  try {
    await sh('docker', ['image', 'inspect', IMAGE], {}, 20_000);
  } catch {
    throw new Error(`The Docker suite needs the image ${IMAGE}, which is not on this engine: ${how}`);
  }
}

let composeCmd: string[] | null = null;
export async function composeCommand(): Promise<string[]> {
  if (composeCmd) return composeCmd;
  try {
    await sh('docker', ['compose', 'version'], {}, 20_000);
    composeCmd = ['docker', 'compose'];
  } catch {
    composeCmd = ['docker-compose'];
  }
  return composeCmd;
}

/** A /24 in 172.21–31.x that no Docker network on this engine uses yet. */
export async function freeSubnet(): Promise<string> {
  const { stdout } = await sh('docker', ['network', 'ls', '-q']);
  const ids = stdout.split('\n').filter(Boolean);
  // One by one: a parallel test file may remove its network between the listing and the inspection.
  const subnets = await Promise.all(ids.map((id) => sh('docker', ['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}', id]).then((r) => r.stdout, () => '')));
  const used = subnets.join(' ');
  for (let i = 0; i < 200; i++) {
    const subnet = `172.${21 + Math.floor(Math.random() * 11)}.${Math.floor(Math.random() * 256)}.0/24`;
    const prefix = subnet.split('.').slice(0, 2).join('.');
    // Avoid any /16 someone holds in that range, and the exact /24.
    if (!used.includes(subnet) && !used.includes(`${prefix}.0.0/16`)) return subnet;
  }
  throw new Error('no free subnet for the test network');
}

export interface DockerCluster {
  project: string;
  home: string;
  /** The clusterbot environment (RUNTIME=docker). */
  env: Record<string, string>;
  /** The compose environment file of this project. */
  envFile: string;
  config: Config;
  app: App;
  runtime: DockerRuntime;
  admin: Principal;
  run(text: string, who?: Principal, surface?: Partial<Surface>): Promise<Reply>;
  /** Press a button (confirm/cancel a card) as a principal. */
  press(actionId: string, who?: Principal, surface?: Partial<Surface>): Promise<Reply>;
  sql<R extends Record<string, unknown> = Record<string, unknown>>(node: string, text: string, params?: unknown[]): Promise<R[]>;
  compose(...args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** The node's container id, by compose labels (compose v1 and v2 name containers differently). */
  container(node: string): Promise<string>;
  destroy(): Promise<void>;
}

export interface DockerClusterOptions {
  /** How many nodes (default 3) and their CLUSTER_NODES (default primary, standby, readonly:nofailover). */
  nodeCount?: number;
  nodes?: (ports: number[]) => string;
  /** Extra bot environment. */
  env?: Record<string, string>;
  /** Extra docker-compose variables (e.g. HTTP_PORT and BOT_IMAGE of the `bot` service). */
  composeEnv?: Record<string, string>;
}

export async function newDockerCluster(label: string, opts: DockerClusterOptions = {}): Promise<DockerCluster> {
  await requireDocker();
  const home = mkdtempSync(join(tmpdir(), `clusterbot-docker-${label}-`));
  chmodSync(home, 0o755);
  const project = `cbtest${label}${randomBytes(3).toString('hex')}`;
  const ports: number[] = [];
  while (ports.length < Math.max(3, opts.nodeCount ?? 3)) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const subnet = await freeSubnet();
  const endpointPort = await freePort();
  const readEndpointPort = await freePort();
  const secrets = { POSTGRES_ADMIN_PASSWORD: `adm${randomBytes(10).toString('hex')}`, POSTGRES_REPLICATOR_PASSWORD: `rep${randomBytes(10).toString('hex')}` };
  const composeEnv: Record<string, string> = {
    COMPOSE_PROJECT_NAME: project,
    DOCKER_IMAGE: IMAGE,
    DOCKER_SUBNET: subnet,
    DOCKER_BIND_ADDRESS: '127.0.0.1',
    POSTGRES_PRIMARY_PORT: String(ports[0]),
    POSTGRES_STANDBY_PORT: String(ports[1]),
    POSTGRES_READONLY_PORT: String(ports[2]),
    // The write endpoint (profile endpoint) gets its own port too, so parallel projects never share 6432.
    WRITE_ENDPOINT_PORT: String(endpointPort),
    READ_ENDPOINT_PORT: String(readEndpointPort),
    CLUSTERBOT_ENV_FILE: join(home, 'bot.env'),
    ...secrets,
    ...opts.composeEnv,
  };
  // The shared backups volume binds this folder: the bot (on the host) and the nodes share it.
  const backups = join(home, 'backups');
  mkdirSync(backups, { mode: 0o750 });
  const pgUser = postgresOsUser();
  if (pgUser) chownSync(backups, pgUser.uid, pgUser.gid);
  composeEnv.BACKUP_DIR = backups;
  // The fence directory: the bot's default ($CLUSTERBOT_HOME/fence), bound at /fence in every node.
  const fence = join(home, 'fence');
  mkdirSync(fence, { mode: 0o755 });
  composeEnv.DOCKER_FENCE_DIR = fence;
  // The cluster CA and certificates: the bot's TLS_DIR, bound at /tls in every node (the first node makes the CA).
  const tls = join(home, 'tls');
  mkdirSync(tls, { mode: 0o755 });
  composeEnv.TLS_DIR = tls;
  const envFile = join(home, 'compose.env');
  writeFileSync(envFile, Object.entries(composeEnv).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
  writeFileSync(composeEnv.CLUSTERBOT_ENV_FILE, '', { mode: 0o600 });
  const env: Record<string, string> = {
    RUNTIME: 'docker',
    CLUSTERBOT_HOME: home,
    COMPOSE_PROJECT_NAME: project,
    DOCKER_IMAGE: IMAGE,
    DOCKER_SUBNET: subnet,
    CLUSTER_NODES: opts.nodes ? opts.nodes(ports.slice(0, opts.nodeCount ?? 3)) : `primary:${ports[0]},standby:${ports[1]},readonly:${ports[2]}:nofailover`,
    TERMINAL_USER: 'tester',
    ADMINS: 'alice',
    OPERATORS: 'olga',
    VIEWERS: 'victor',
    LOG_TO: 'file',
    LOG_LEVEL: 'debug',
    HTTP_PORT: String(await freePort()),
    TLS_DIR: tls,
    WRITE_ENDPOINT_PORT: String(endpointPort),
    READ_ENDPOINT_PORT: String(readEndpointPort),
    ...secrets,
    ...opts.env,
  };
  const config = loadConfig(env);
  const app = await createApp(config);
  const admin: Principal = { id: 'tester', display: 'tester', platform: 'shell' };
  const surface = (s?: Partial<Surface>): Surface => ({ platform: 'shell', channel: 'test', ...s });
  const compose = async (...args: string[]) => {
    const [cmd, ...pre] = await composeCommand();
    // Only this project's variables: a developer's own .env must not leak into the test stack.
    return sh(cmd, [...pre, '--project-name', project, '--env-file', envFile, ...args], composeEnv);
  };
  return {
    project,
    home,
    env,
    envFile,
    config,
    app,
    runtime: app.services.runtime as DockerRuntime,
    admin,
    run: (text, who = admin, s) => app.router.handle(text, who, surface(s)),
    press: (actionId, who = admin, s) => app.router.press(actionId, who, surface(s)),
    async sql(node, text, params = []) {
      return (await app.services.pools.query(app.services.node(node), text, params)).rows as never;
    },
    compose,
    async container(node) {
      const { stdout } = await sh('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`, '--filter', `label=com.docker.compose.service=postgresql-${node}`]);
      const id = stdout.split('\n').find(Boolean);
      if (!id) throw new Error(`no container for ${node} in ${project}`);
      return id;
    },
    async destroy() {
      await app.close().catch(() => undefined);
      await removeProject(project);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Every container, volume and network of a project (compose-made or clusterbot-made). */
export async function removeProject(project: string): Promise<void> {
  const label = `label=com.docker.compose.project=${project}`;
  const ids = (await sh('docker', ['ps', '-aq', '--filter', label])).stdout.split('\n').filter(Boolean);
  if (ids.length) await sh('docker', ['rm', '-f', '-v', ...ids]).catch(() => undefined);
  const vols = (await sh('docker', ['volume', 'ls', '-q', '--filter', label])).stdout.split('\n').filter(Boolean);
  if (vols.length) await sh('docker', ['volume', 'rm', '-f', ...vols]).catch(() => undefined);
  const nets = (await sh('docker', ['network', 'ls', '-q', '--filter', label])).stdout.split('\n').filter(Boolean);
  if (nets.length) await sh('docker', ['network', 'rm', ...nets]).catch(() => undefined);
}

export { until };

/** The nodes of the default topology, for tests that try every node. */
export const NODE_NAMES = ['primary', 'standby', 'readonly'];

/**
 * A real INSERT into proyecto.carga on every node that answers: the names of those that took it.
 * Exactly one name is the "never two writable primaries" check the failover tests make.
 */
export async function nodesTakingWrites(c: DockerCluster, tag: string, nodes = NODE_NAMES): Promise<string[]> {
  const took: string[] = [];
  for (const n of nodes) {
    await c.app.services.pools.reset(c.app.services.node(n));
    try {
      await c.sql(n, 'INSERT INTO proyecto.carga (nodo, tag) VALUES ($1, $2)', [n, tag]);
      took.push(n);
    } catch (e) {
      // Refused (read-only), down, or a replica that has not replayed the table yet: no write taken.
      if (!/read-only|ECONNREFUSED|terminat|connect|starting up|shutting down|recovery|does not exist/i.test((e as Error).message)) throw e;
    }
  }
  return took;
}

/** Waits (as the bot's status sees it) until `primary` is the primary with two streaming replicas. */
export function twoStreamingReplicas(c: DockerCluster, timeoutMs = 120_000, what = 'two streaming replicas'): Promise<unknown> {
  return until(what, async () => {
    const s = await c.app.services.snapshot();
    return s.primary === 'primary' && s.nodes.filter((n) => n.streaming).length === 2;
  }, timeoutMs);
}

/** `/cluster up` (it must succeed), then two streaming replicas. */
export async function upWithTwoReplicas(c: DockerCluster, timeoutMs = 120_000): Promise<void> {
  const up = await c.run('/cluster up');
  expect(up.failed, up.text).toBeFalsy();
  await twoStreamingReplicas(c, timeoutMs);
}

/** The table nodesTakingWrites inserts into, created on the primary. */
export async function createLoadTable(c: DockerCluster): Promise<void> {
  await c.sql('primary', 'CREATE TABLE proyecto.carga (id bigserial PRIMARY KEY, nodo text NOT NULL, tag text NOT NULL)');
}

/** `docker kill` of the node's container, then wait until the runtime sees it down. */
export async function dockerKill(c: DockerCluster, name: string): Promise<void> {
  await sh('docker', ['kill', await c.container(name)]);
  await until(`the ${name} container down`, async () => !(await c.runtime.isRunning(c.app.services.node(name))), 30_000, 200);
}
