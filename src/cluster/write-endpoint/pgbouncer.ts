// Our own PgBouncer (never the package's service): its ini and userlist under
// CLUSTERBOT_HOME/pgbouncer, started as a daemon (as the postgres OS user when we are root),
// controlled through its admin console (PAUSE, RELOAD, RESUME).
import { existsSync, readFileSync, renameSync } from 'node:fs';
import pg from 'pg';
import type { Config, NodeConfig } from '../../config.js';
import { UserError } from '../../errors.js';
import { daemonAlive, daemonDir, postgresOsUser, runProgram, stopDaemon, writeDaemonFile, type OsUser } from '../../runtime/process.js';
import { issueServerCertificate } from '../../runtime/certificates.js';
import { adminClientConfig, caFile } from '../../db/tls.js';

/** The endpoint's own server certificate in TLS_DIR (pgbouncer.crt/.key), from the cluster CA. */
const CERT_NAME = 'pgbouncer';

export const endpointDir = (config: Config) => `${config.home}/pgbouncer`;
const files = (config: Config) => {
  const dir = endpointDir(config);
  return { dir, ini: `${dir}/pgbouncer.ini`, users: `${dir}/userlist.txt`, pid: `${dir}/pgbouncer.pid`, log: `${dir}/pgbouncer.log` };
};

export function pgbouncerBinary(config: Config): string {
  for (const c of [config.PGBOUNCER_BIN, '/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer']) {
    if (c && existsSync(c)) return c;
  }
  throw new UserError(
    'PgBouncer is not installed, so there is no write endpoint',
    'install it (Debian/Ubuntu: sudo apt-get install -y pgbouncer, or run bash scripts/setup.sh as root), set PGBOUNCER_BIN, or set WRITE_ENDPOINT=false',
    'prerequisite',
  );
}

const q = (v: string) => v.replace(/"/g, '""');

/** The ini: one database entry per name we serve, all pointing at `target`. */
export function iniText(config: Config, target: NodeConfig, asUser: string | null): string {
  const f = files(config);
  const conn = (db: string) => `host=${target.host} port=${target.port} dbname=${db}`;
  return [
    `; Written by clusterbot: the write endpoint follows the primary (now ${target.name}). Edits are overwritten.`,
    '[databases]',
    `${config.PG_DATABASE} = ${conn(config.PG_DATABASE)}`,
    `postgres = ${conn('postgres')}`,
    `* = host=${target.host} port=${target.port}`,
    '',
    '[pgbouncer]',
    `listen_addr = ${config.WRITE_ENDPOINT_HOST}`,
    `listen_port = ${config.WRITE_ENDPOINT_PORT}`,
    `unix_socket_dir = ${f.dir}`,
    'auth_type = scram-sha-256',
    `auth_file = ${f.users}`,
    `admin_users = ${config.POSTGRES_ADMIN_USER}`,
    // Transaction pooling: PAUSE completes as soon as running transactions end, so a switchover only holds queries.
    'pool_mode = transaction',
    'max_client_conn = 500',
    'default_pool_size = 20',
    'server_login_retry = 1',
    'server_connect_timeout = 3',
    'query_wait_timeout = 120',
    'ignore_startup_parameters = extra_float_digits,options,application_name',
    // TLS both ways: clients must use it (with our certificate from the cluster CA), and PgBouncer
    // verifies the node it forwards to against the CA and its host name (verify-full).
    'client_tls_sslmode = require',
    `client_tls_cert_file = ${config.tlsDir}/${CERT_NAME}.crt`,
    `client_tls_key_file = ${config.tlsDir}/${CERT_NAME}.key`,
    // Clients send no certificate (require, not verify); without a CA file PgBouncer looks for the
    // system's CA bundle, which a slim image does not have, and refuses to start.
    `client_tls_ca_file = ${caFile(config)}`,
    'server_tls_sslmode = verify-full',
    `server_tls_ca_file = ${caFile(config)}`,
    `logfile = ${f.log}`,
    `pidfile = ${f.pid}`,
    ...(asUser ? [`user = ${asUser}`] : []),
    '',
  ].join('\n');
}

/**
 * The userlist: the admin user (PgBouncer derives SCRAM from it; the file is 0600 like the passfile),
 * plus any application roles someone added by hand, which are kept.
 */
export function userlistText(config: Config, existing = ''): string {
  const admin = `"${q(config.POSTGRES_ADMIN_USER)}" `;
  const others = existing.split('\n').filter((l) => l.trim() && !l.startsWith(admin));
  return [`${admin}"${q(config.POSTGRES_ADMIN_PASSWORD)}"`, ...others, ''].join('\n');
}

function writeOwned(path: string, text: string, user: OsUser | null): void {
  renameSync(writeDaemonFile(path, text, user), path);
}

/** A new certificate for the endpoint from the cluster CA (a RELOAD makes PgBouncer serve it to new clients). */
export async function issueEndpointCertificate(config: Config): Promise<void> {
  await issueServerCertificate(config, CERT_NAME, [config.WRITE_ENDPOINT_HOST, '127.0.0.1', 'localhost'], postgresOsUser());
}

/** Write the ini and userlist pointing at `target` (and the endpoint's certificate, once). */
export async function writeEndpointConfig(config: Config, target: NodeConfig): Promise<void> {
  const f = files(config);
  const user = postgresOsUser();
  if (!existsSync(`${config.tlsDir}/${CERT_NAME}.key`)) await issueEndpointCertificate(config);
  daemonDir(f.dir, user);
  writeOwned(f.users, userlistText(config, existsSync(f.users) ? readFileSync(f.users, 'utf8') : ''), user);
  writeOwned(f.ini, iniText(config, target, user?.name ?? null), user);
}

/** The node name the ini points at now, or null. */
export function configuredTarget(config: Config): string | null {
  try {
    return /now (\S+)\)/.exec(readFileSync(files(config).ini, 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

export function endpointPid(config: Config): number | null {
  try {
    const pid = Number(readFileSync(files(config).pid, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && daemonAlive(pid, 'pgbouncer') ? pid : null;
  } catch {
    return null;
  }
}

/** One statement on the admin console (simple protocol); throws when PgBouncer cannot be reached. */
export async function adminCommand(config: Config, sql: string, timeoutMs = 5000): Promise<void> {
  const client = new pg.Client(adminClientConfig(config, { host: config.WRITE_ENDPOINT_HOST, port: config.WRITE_ENDPOINT_PORT }, {
    database: 'pgbouncer',
    connectionTimeoutMillis: 2000,
    query_timeout: timeoutMs,
  }));
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Start the daemon (ini must exist); resolves when its admin console answers. */
export async function startPgbouncer(config: Config): Promise<number> {
  const f = files(config);
  const r = await runProgram(pgbouncerBinary(config), ['-d', f.ini], { user: postgresOsUser(), timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`pgbouncer did not start: ${(r.stderr || r.stdout).trim().split('\n').at(-1) ?? `exit ${r.code}`} (log: ${f.log})`);
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < 10_000) {
    const pid = endpointPid(config);
    if (pid) {
      const ok = await adminCommand(config, 'SHOW VERSION', 2000).then(
        () => true,
        (e: unknown) => ((last = (e as Error).message), false),
      );
      if (ok) return pid;
    }
    await sleep(100);
  }
  throw new Error(`pgbouncer did not answer on ${config.WRITE_ENDPOINT_HOST}:${config.WRITE_ENDPOINT_PORT} within 10 s (${last || 'no pid file'}; log: ${f.log})`);
}

/** Stop our daemon (SIGTERM, then SIGKILL) and wait until it is gone. */
export async function stopPgbouncer(config: Config): Promise<boolean> {
  const pid = endpointPid(config);
  if (!pid) return false;
  await stopDaemon(pid, 'pgbouncer');
  return true;
}
