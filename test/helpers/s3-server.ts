// A real S3-compatible server per test file: OpenStack Swift (Debian's swift-* packages) with its S3 API
// (the proxy's s3api middleware: SigV4, ListObjectsV2, multipart upload, multi-object delete,
// path-style buckets) and tempauth for the keys, behind TLS with a CA this helper makes with the
// openssl CLI — pgBackRest speaks only HTTPS to S3 and verifies the certificate (repo2-storage-ca-file).
// Five processes (memcached, account, container, object and proxy servers) on free loopback ports,
// stopped by pid. bash scripts/s3-prereqs.sh installs the packages.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, closeSync, openSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from '../../src/runtime/ports.js';
import { runProgram } from '../../src/runtime/process.js';
import { eventually } from './wait.js';

export interface S3Server {
  dir: string;
  /** The endpoint's host name (the certificate's name); the server listens on 127.0.0.1. */
  host: string;
  port: number;
  bucket: string;
  accessKey: string;
  secretKey: string;
  caFile: string;
  /** The BACKUP_S3_* settings that point clusterbot at this server. */
  env: Record<string, string>;
  /** Where Swift keeps the objects' bytes, for looking at what a backup really stored. */
  objectsDir: string;
  /** The fault: the endpoint's server process is stopped (kill -9); everything else keeps running. */
  killProxy(): Promise<void>;
  stop(): Promise<void>;
}

const SERVERS = ['account', 'container', 'object'] as const;

export async function startS3Server(): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'clusterbot-s3-'));
  // pgBackRest runs as the postgres OS user and must read the CA certificate.
  chmodSync(dir, 0o755);
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => stopChild(c)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const server = await launch(dir, children);
    return { ...server, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function launch(dir: string, children: ChildProcess[]): Promise<Omit<S3Server, 'stop'>> {
  const user = userInfo().username;
  const bucket = `clusterbot-${randomBytes(3).toString('hex')}`;
  const account = 'clusterbot';
  const accessKey = `${account}:tester`;
  const secretKey = randomBytes(12).toString('hex');
  const ports = { memcached: await freePort(), account: await freePort(), container: await freePort(), object: await freePort(), proxy: await freePort() };
  mkdirSync(`${dir}/node/d1`, { recursive: true });
  mkdirSync(`${dir}/logs`);
  const caFile = await makeCertificates(dir);

  for (const kind of SERVERS) {
    const builder = `${dir}/${kind}.builder`;
    await must('swift-ring-builder', [builder, 'create', '6', '1', '1']);
    await must('swift-ring-builder', [builder, 'add', `r1z1-127.0.0.1:${ports[kind]}/d1`, '1']);
    await must('swift-ring-builder', [builder, 'rebalance']);
    writeFileSync(`${dir}/${kind}-server.conf`, serverConf(dir, user, kind, ports[kind]));
  }
  writeFileSync(`${dir}/proxy-server.conf`, proxyConf(dir, user, ports.proxy, ports.memcached, `user_${account}_tester = ${secretKey} .admin`));

  children.push(start(dir, 'memcached', 'memcached', ['-l', '127.0.0.1', '-p', String(ports.memcached), '-U', '0', '-m', '16', ...(user === 'root' ? ['-u', 'root'] : [])]));
  for (const kind of SERVERS) children.push(start(dir, kind, `swift-${kind}-server`, [`${dir}/${kind}-server.conf`, '-v']));
  const proxy = start(dir, 'proxy', 'swift-proxy-server', [`${dir}/proxy-server.conf`, '-v']);
  children.push(proxy);

  const host = 'localhost';
  const base = `https://${host}:${ports.proxy}`;
  const ca = readFileSync(caFile);
  // Python servers start slowly on a busy machine; the bucket can be made once all four answer.
  await eventually(
    `Swift on ${base} to create bucket ${bucket} (logs: ${dir}/logs)`,
    async () => {
      const auth = await httpsCall(`${base}/auth/v1.0`, 'GET', { 'X-Auth-User': accessKey, 'X-Auth-Key': secretKey }, ca);
      const token = auth.headers['x-auth-token'];
      if (auth.status !== 200 || typeof token !== 'string') return `auth answered ${auth.status}`;
      const put = await httpsCall(`${base}/v1/AUTH_${account}/${bucket}`, 'PUT', { 'X-Auth-Token': token }, ca);
      return put.status === 201 || put.status === 202 ? 'created' : `PUT bucket answered ${put.status}`;
    },
    (v) => v === 'created',
    { timeoutMs: 180_000, everyMs: 500 },
  );
  return {
    dir,
    host,
    port: ports.proxy,
    bucket,
    accessKey,
    secretKey,
    caFile,
    objectsDir: `${dir}/node/d1`,
    env: {
      BACKUP_S3_BUCKET: bucket,
      BACKUP_S3_ENDPOINT: `${host}:${ports.proxy}`,
      BACKUP_S3_REGION: 'us-east-1',
      BACKUP_S3_ACCESS_KEY: accessKey,
      BACKUP_S3_SECRET_KEY: secretKey,
      BACKUP_S3_URI_STYLE: 'path',
      BACKUP_S3_CA_FILE: caFile,
    },
    killProxy: () => stopChild(proxy, 'SIGKILL'),
  };
}

/** Every regular file under `dir` (Swift's .data files hold the objects' bytes as stored). */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

/** A private CA and a server certificate for localhost / 127.0.0.1 signed by it. */
async function makeCertificates(dir: string): Promise<string> {
  const ca = `${dir}/ca.crt`;
  await must('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=clusterbot test CA', '-keyout', `${dir}/ca.key`, '-out', ca]);
  await must('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', `${dir}/server.key`, '-out', `${dir}/server.csr`]);
  writeFileSync(`${dir}/server.ext`, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  await must('openssl', ['x509', '-req', '-in', `${dir}/server.csr`, '-CA', ca, '-CAkey', `${dir}/ca.key`, '-CAcreateserial', '-days', '2', '-extfile', `${dir}/server.ext`, '-out', `${dir}/server.crt`]);
  chmodSync(ca, 0o644);
  return ca;
}

function serverConf(dir: string, user: string, kind: string, port: number): string {
  return `[DEFAULT]
devices = ${dir}/node
mount_check = false
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
user = ${user}
swift_dir = ${dir}

[pipeline:main]
pipeline = ${kind}-server

[app:${kind}-server]
use = egg:swift#${kind}
`;
}

function proxyConf(dir: string, user: string, port: number, memcached: number, account: string): string {
  const filters = ['catch_errors', 'gatekeeper', 'healthcheck', 'proxy_logging', 'listing_formats', 'bulk', 'copy', 'slo', 'dlo'];
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
user = ${user}
swift_dir = ${dir}
cert_file = ${dir}/server.crt
key_file = ${dir}/server.key

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy_logging cache listing_formats bulk s3api tempauth copy slo dlo proxy_logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
${account}

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:${memcached}

${filters.map((f) => `[filter:${f}]\nuse = egg:swift#${f}\n`).join('\n')}`;
}

function start(dir: string, name: string, cmd: string, args: string[]): ChildProcess {
  // The log file itself as stdout/stderr: a pipe we stopped reading would block the server (Swift
  // writes every request line to stderr with -v, from a single eventlet thread).
  const log = openSync(`${dir}/logs/${name}.log`, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  child.on('error', (e) => appendFileSync(`${dir}/logs/${name}.log`, `spawn failed: ${e.message}\n`));
  return child;
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const gone = new Promise<void>((res) => child.once('exit', () => res()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

async function must(cmd: string, args: string[]): Promise<void> {
  const r = await runProgram(cmd, args, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.trim() || r.stdout.trim()}`);
}

function httpsCall(url: string, method: string, headers: Record<string, string>, ca: Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ca, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
