// HAProxy for the read endpoint: the configuration clusterbot writes (local and Docker alike), and our
// own daemon on this machine (never the package's service) in master-worker mode, so a reload
// (SIGUSR2 to the master) starts new workers while the old ones finish their established sessions.
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { connect } from 'node:net';
import type { Config } from '../../config.js';
import { UserError } from '../../errors.js';
import { daemonAlive, daemonDir, postgresOsUser, runProgram, stopDaemon, writeDaemonFile } from '../../runtime/process.js';
import type { ReadPool } from './pool.js';

export interface ReadServer {
  name: string;
  host: string;
  port: number;
}

export interface ReadEndpointShape {
  /** Where HAProxy listens ("127.0.0.1:6433"). */
  bind: string;
  pool: ReadPool;
  /** How HAProxy reaches each node. */
  server(name: string): ReadServer;
  /** Docker: resolve the nodes' service names through the engine's DNS, so a restarted container is found again. */
  dockerDns: boolean;
  pidfile?: string;
}

const HEADER = '# clusterbot read pool: ';

/*
 * The health check (`check` alone) is a TCP connect. pg_hba.conf admits TLS only, so pgsql-check's plain startup packet
 * is refused and logged as a FATAL every second; an SSLRequest check ends in "could not accept SSL
 * connection" in the log every second. A bare connect is silent (PostgreSQL does not log a connection
 * that sends nothing) and takes out a dead replica at once; a replica that accepts but does not
 * answer (frozen) is taken out by the bot's pool, which reads every node each monitor tick.
 */

/** The whole configuration; its first line carries the pool as JSON for status. */
export function haproxyConfig(shape: ReadEndpointShape): string {
  const { pool } = shape;
  const line = (name: string, backup: boolean) => {
    const s = shape.server(name);
    return `  server ${s.name} ${s.host}:${s.port} check${backup ? ' backup' : ''}`;
  };
  return [
    `${HEADER}${JSON.stringify(pool)}`,
    '# Written by clusterbot on every change of roles or eligibility; edits are overwritten.',
    'global',
    '  master-worker',
    ...(shape.pidfile ? [`  pidfile ${shape.pidfile}`] : []),
    ...(shape.dockerDns ? ['  user haproxy', '  group haproxy', 'resolvers docker', '  nameserver dns 127.0.0.11:53', '  hold valid 2s'] : []),
    'defaults',
    '  mode tcp',
    '  timeout connect 3s',
    // Database sessions idle for long (pools, psql): only a day of silence closes them.
    '  timeout client 24h',
    '  timeout server 24h',
    '  timeout check 2s',
    // A refused connect (a replica that just died) is retried on another server, not shown to the client.
    '  retries 2',
    '  option redispatch 1',
    'listen read',
    `  bind ${shape.bind}`,
    '  balance leastconn',
    `  default-server inter 1s fall 2 rise 2${shape.dockerDns ? ' resolvers docker init-addr last,libc,none' : ''}`,
    ...pool.members.map((m) => line(m, false)),
    ...(pool.fallback ? [line(pool.fallback, true)] : []),
    '',
  ].join('\n');
}

/** The pool a configuration text was written for, or null. */
export function poolOfConfig(text: string | null): ReadPool | null {
  const first = text?.split('\n', 1)[0] ?? '';
  if (!first.startsWith(HEADER)) return null;
  try {
    return JSON.parse(first.slice(HEADER.length)) as ReadPool;
  } catch {
    return null;
  }
}

export function haproxyBinary(config: Config): string {
  for (const c of [config.HAPROXY_BIN, '/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy']) {
    if (c && existsSync(c)) return c;
  }
  throw new UserError(
    'HAProxy is not installed, so there is no read endpoint',
    'install it (Debian/Ubuntu: sudo apt-get install -y haproxy, or run bash scripts/setup.sh as root), set HAPROXY_BIN, or set READ_ENDPOINT=false',
    'prerequisite',
  );
}

export const readEndpointDir = (config: Config) => `${config.home}/haproxy`;
export const haproxyFiles = (config: Config) => {
  const dir = readEndpointDir(config);
  return { dir, cfg: `${dir}/haproxy.cfg`, pid: `${dir}/haproxy.pid`, master: `${dir}/master.sock` };
};

export function haproxyPid(config: Config): number | null {
  try {
    const pid = Number(readFileSync(haproxyFiles(config).pid, 'utf8').trim().split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && daemonAlive(pid, 'haproxy') ? pid : null;
  } catch {
    return null;
  }
}

export function readLocalConfig(config: Config): string | null {
  try {
    return readFileSync(haproxyFiles(config).cfg, 'utf8');
  } catch {
    return null;
  }
}

/** `haproxy -c`: a configuration HAProxy would refuse never replaces the one in force. */
async function checkConfig(config: Config, path: string): Promise<void> {
  const r = await runProgram(haproxyBinary(config), ['-c', '-q', '-f', path], { user: postgresOsUser(), timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`HAProxy refuses the new configuration: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`);
}

/** The master's view: how many reloads it did (and how many failed), and its current workers. */
export interface MasterState {
  reloads: number;
  failed: number;
  workers: number[];
}

/** Parses the master CLI's `show proc`. */
export function parseShowProc(text: string): MasterState | null {
  const m = /^\d+\s+master\s+(\d+)(?:\s+\[failed: (\d+)\])?/m.exec(text);
  if (!m) return null;
  const current = text.split('# workers')[1]?.split('#')[0] ?? '';
  const workers = [...current.matchAll(/^(\d+)\s+worker\b/gm)].map((w) => Number(w[1]));
  return { reloads: Number(m[1]), failed: Number(m[2] ?? 0), workers };
}

/** One command on the master CLI (a unix socket): its whole answer. */
export function masterCommand(socket: string, command: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ path: socket });
    let out = '';
    const timer = setTimeout(() => sock.destroy(new Error(`HAProxy's master CLI did not answer "${command}" within ${timeoutMs} ms`)), timeoutMs);
    sock.on('data', (d) => (out += d.toString()));
    sock.once('error', (e) => (clearTimeout(timer), reject(e)));
    sock.once('close', () => (clearTimeout(timer), resolve(out)));
    sock.end(`${command}\n`);
  });
}

/** Write (checked, then renamed into place) the configuration of our own daemon. */
export async function writeLocalConfig(config: Config, text: string): Promise<void> {
  const f = haproxyFiles(config);
  const user = postgresOsUser();
  daemonDir(f.dir, user);
  const tmp = writeDaemonFile(f.cfg, text, user);
  await checkConfig(config, tmp);
  renameSync(tmp, f.cfg);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port, timeout: 1000 });
    const done = (ok: boolean) => (sock.destroy(), resolve(ok));
    sock.once('connect', () => done(true)).once('error', () => done(false)).once('timeout', () => done(false));
  });
}

/** Start the daemon (the configuration must exist); resolves when its port accepts connections. */
export async function startHaproxy(config: Config): Promise<number> {
  const f = haproxyFiles(config);
  const r = await runProgram(haproxyBinary(config), ['-W', '-D', '-S', f.master, '-p', f.pid, '-f', f.cfg], { user: postgresOsUser(), timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`haproxy did not start: ${(r.stderr || r.stdout).trim().split('\n').at(-1) ?? `exit ${r.code}`}`);
  const t0 = Date.now();
  while (Date.now() - t0 < 10_000) {
    const pid = haproxyPid(config);
    if (pid && (await accepts(config.READ_ENDPOINT_HOST, config.READ_ENDPOINT_PORT))) return pid;
    await sleep(100);
  }
  throw new Error(`haproxy did not listen on ${config.READ_ENDPOINT_HOST}:${config.READ_ENDPOINT_PORT} within 10 s (${haproxyPid(config) ? 'running' : 'no master process'})`);
}

/** Ask our daemon's master to reload: new workers take new sessions, the old ones finish theirs. */
export function signalReload(config: Config): void {
  const pid = haproxyPid(config);
  if (!pid) throw new Error('HAProxy is not running');
  process.kill(pid, 'SIGUSR2');
}

/** Stop our daemon (SIGTERM to the master stops its workers too) and wait until it is gone. */
export async function stopHaproxy(config: Config): Promise<boolean> {
  const pid = haproxyPid(config);
  if (!pid) return false;
  await stopDaemon(pid, 'haproxy');
  return true;
}
