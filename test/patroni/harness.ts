// A real Patroni cluster per test file: one etcd member and three Patroni-managed PostgreSQL
// nodes on loopback, free ports, data under a temp dir, run as the postgres OS user when root.
// Everything is stopped by pid and deleted in destroy(), also when start-up failed half-way.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { findPgBin } from '../../src/runtime/pg-binaries.js';
import { postgresOsUser, type OsUser } from '../../src/runtime/process.js';
import { postgresAsset } from '../../src/paths.js';
import { freePort } from '../helpers/cluster.js';

export interface HarnessMember {
  name: string;
  pgPort: number;
  restPort: number;
  apiUrl: string;
  dataDir: string;
  configPath: string;
  nofailover: boolean;
  proc: ChildProcess | null;
}

export interface PatroniHarnessOptions {
  ttl?: number;
  loopWait?: number;
  retryTimeout?: number;
  /** Protect the REST API's unsafe endpoints with basic auth. */
  restAuth?: boolean;
  /**
   * Patroni's DCS client: `etcd` (default), the v2 API (etcd started with --enable-v2), whose
   * leader-key update is a compare-and-swap on the owner's name; or `etcd3`, where Patroni 3.0.2 lets
   * a leader that stalled past its TTL overwrite the new leader's key (docs/patroni.md, "Frozen leaders").
   */
  dcs?: 'etcd3' | 'etcd';
  /** Extra dynamic configuration (bootstrap.dcs), e.g. { synchronous_mode: true }. */
  dynamic?: Record<string, unknown>;
  /**
   * Options added to [global] of every member's pgBackRest configuration, given the repo1 path: the
   * bot's repositories and cipher (repo2 on S3, repoN-cipher-*), as an operator writes them.
   */
  memberPgBackRest?: (repo1: string) => Record<string, string>;
}

export interface PatroniHarness {
  dir: string;
  /** The bot's BACKUP_DIR; the members push WAL into its pgBackRest repository (and get it back from there). */
  backupDir: string;
  scope: string;
  etcdPort: number;
  members: HarnessMember[];
  /** Env for createApp/loadConfig: CLUSTER_BACKEND=patroni, PATRONI_URLS, CLUSTER_NODES, passwords. */
  env: Record<string, string>;
  member(name: string): HarnessMember;
  /** `patronictl -c <member config> <args>` → stdout (throws on a non-zero exit). */
  patronictl(args: string[]): string;
  /** Rewrite every member's pgBackRest configuration with these [global] options instead (archive-push reads it per call). */
  setMemberPgBackRest(options: Record<string, string>): void;
  /** SIGKILL a member's Patroni and its postmaster (a machine dying). Returns when both are gone. */
  killMember(name: string): Promise<void>;
  /** Start a killed member's Patroni again. */
  startMember(name: string): void;
  /** SIGSTOP a member's postmaster and every child (a stalled data disk); its Patroni keeps running. Returns the pids. */
  freezePostgres(name: string): number[];
  /** SIGCONT what freezePostgres stopped. */
  thawPostgres(name: string): void;
  destroy(): Promise<void>;
}

const NAMES: Array<[string, boolean]> = [
  ['primary', false],
  ['standby', false],
  ['readonly', true],
];

/** Fail loudly (never skip) when Patroni or etcd is missing. */
export function requirePatroniPrereqs(): void {
  const missing = ['patroni', 'patronictl', 'etcd'].filter((p) => spawnSync('sh', ['-c', `command -v ${p}`]).status !== 0);
  if (missing.length) {
    throw new Error(
      `missing ${missing.join(', ')}: install the Debian packages (apt-get install -y patroni etcd-server; scripts/patroni-prereqs.sh does it when root)`,
    );
  }
  if (!findPgBin(process.env.PG_BIN)) throw new Error('PostgreSQL server binaries not found (apt-get install -y postgresql-15)');
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  return ports;
}

export async function startPatroniCluster(opts: PatroniHarnessOptions = {}): Promise<PatroniHarness> {
  requirePatroniPrereqs();
  const pgBin = findPgBin(process.env.PG_BIN)!;
  const user = postgresOsUser();
  const dir = mkdtempSync(join(tmpdir(), 'cb-patroni-'));
  chmodSync(dir, 0o755);
  const own = (p: string) => user && chownSync(p, user.uid, user.gid);
  const [etcdPort, etcdPeer, ...ports] = await distinctPorts(2 + NAMES.length * 2);
  const scope = `cb-${randomBytes(4).toString('hex')}`;
  const secrets = {
    POSTGRES_ADMIN_PASSWORD: randomBytes(12).toString('hex'),
    POSTGRES_REPLICATOR_PASSWORD: randomBytes(12).toString('hex'),
    SUPERUSER_PASSWORD: randomBytes(12).toString('hex'),
    PATRONI_PASSWORD: randomBytes(12).toString('hex'),
  };
  const procs: ChildProcess[] = [];
  const frozen = new Map<string, number[]>();
  const members: HarnessMember[] = NAMES.map(([name, nofailover], i) => ({
    name,
    nofailover,
    pgPort: ports[i * 2],
    restPort: ports[i * 2 + 1],
    apiUrl: `http://127.0.0.1:${ports[i * 2 + 1]}`,
    dataDir: join(dir, name, 'data'),
    configPath: join(dir, name, 'patroni.yml'),
    proc: null,
  }));

  const logFd = (name: string) => openSync(join(dir, `${name}.log`), 'a');
  const launch = (cmd: string, args: string[], logName: string, env: Record<string, string>, as: OsUser | null) => {
    const fd = logFd(logName);
    const child = spawn(cmd, args, { cwd: dir, env, uid: as?.uid, gid: as?.gid, detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child.unref();
    child.on('error', () => undefined);
    procs.push(child);
    return child;
  };

  const backupDir = join(dir, 'backups');
  // 0600: with an encrypted or S3 repository it holds the passphrase and the keys.
  const writeMemberPgBackRest = (m: HarnessMember, extra: Record<string, string>) => {
    const path = join(dir, m.name, 'pgbackrest.conf');
    writeFileSync(path, memberPgBackRestConf(m, join(backupDir, 'pgbackrest'), join(dir, 'pgbackrest', m.name), extra), { mode: 0o600 });
    chmodSync(path, 0o600);
    own(path);
  };
  // The cluster CA and one certificate per member (postgres/tls.sh): the bot's TLS_DIR.
  const tlsDir = join(dir, 'tls');
  const harness: PatroniHarness = {
    dir,
    backupDir,
    scope,
    etcdPort,
    members,
    env: {
      CLUSTER_BACKEND: 'patroni',
      PATRONI_URLS: members.map((m) => m.apiUrl).join(','),
      CLUSTER_NODES: members.map((m) => `${m.name}:${m.pgPort}${m.nofailover ? ':nofailover' : ''}`).join(','),
      POSTGRES_ADMIN_PASSWORD: secrets.POSTGRES_ADMIN_PASSWORD,
      POSTGRES_REPLICATOR_PASSWORD: secrets.POSTGRES_REPLICATOR_PASSWORD,
      BACKUP_DIR: backupDir,
      TLS_DIR: tlsDir,
      ...(opts.restAuth ? { PATRONI_USERNAME: 'clusterbot', PATRONI_PASSWORD: secrets.PATRONI_PASSWORD } : {}),
    },
    member(name) {
      const m = members.find((x) => x.name === name);
      if (!m) throw new Error(`no member ${name}`);
      return m;
    },
    patronictl(args) {
      const r = spawnSync('patronictl', ['-c', members[0].configPath, ...args], { encoding: 'utf8', timeout: 30_000 });
      if (r.status !== 0) throw new Error(`patronictl ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
      return r.stdout;
    },
    setMemberPgBackRest(options) {
      for (const m of members) writeMemberPgBackRest(m, options);
    },
    async killMember(name) {
      const m = harness.member(name);
      const pids = [m.proc?.pid, postmasterPid(m.dataDir)].filter((p): p is number => !!p && alive(p));
      for (const pid of pids) killQuietly(pid, 'SIGKILL');
      for (let i = 0; i < 50 && pids.some(alive); i++) await sleep(100);
      m.proc = null;
    },
    startMember(name) {
      const m = harness.member(name);
      // archive_command and post_bootstrap run pgBackRest with this member's own configuration.
      m.proc = launch('patroni', [m.configPath], `patroni-${name}`, { ...patroniEnv, PGBACKREST_CONFIG: join(dir, name, 'pgbackrest.conf') }, user);
    },
    freezePostgres(name) {
      const pm = postmasterPid(harness.member(name).dataDir);
      if (!pm || !alive(pm)) throw new Error(`${name}: no running postmaster to freeze`);
      // The postmaster first, so it forks no new child while its children are being stopped.
      killQuietly(pm, 'SIGSTOP');
      const pids = [pm, ...childrenOf(pm)];
      for (const pid of pids.slice(1)) killQuietly(pid, 'SIGSTOP');
      frozen.set(name, pids);
      return pids;
    },
    thawPostgres(name) {
      for (const pid of frozen.get(name) ?? []) killQuietly(pid, 'SIGCONT');
      frozen.delete(name);
    },
    async destroy() {
      for (const name of [...frozen.keys()]) harness.thawPostgres(name);
      for (const m of members) if (m.proc?.pid) killQuietly(m.proc.pid, 'SIGTERM');
      for (let i = 0; i < 100 && members.some((m) => m.proc?.pid && alive(m.proc.pid)); i++) await sleep(100);
      for (const p of procs) if (p.pid && alive(p.pid)) killQuietly(p.pid, 'SIGKILL');
      for (const m of members) {
        const pm = postmasterPid(m.dataDir);
        if (pm && alive(pm)) killQuietly(pm, 'SIGKILL');
      }
      for (const p of procs) if (p.pid) killQuietly(-p.pid, 'SIGKILL');
      const pids = [...procs.map((p) => p.pid), ...members.map((m) => postmasterPid(m.dataDir))].filter((p): p is number => !!p);
      for (let i = 0; i < 50 && pids.some(alive); i++) await sleep(100);
      if (process.env.KEEP_PATRONI_TEST_DIR !== '1') rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    },
  };

  const patroniEnv: Record<string, string> = {
    PATH: `${pgBin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    LANG: 'C.UTF-8',
    HOME: dir,
    POSTGRES_ADMIN_USER: 'admin',
    PG_DATABASE: 'proyecto_db',
    POSTGRES_ADMIN_PASSWORD: secrets.POSTGRES_ADMIN_PASSWORD,
    POSTGRES_REPLICATOR_PASSWORD: secrets.POSTGRES_REPLICATOR_PASSWORD,
    BOOTSTRAP_SQL: join(dir, 'bin', '01-bootstrap.sql'),
  };

  try {
    // Scripts the postgres user can read (the worktree may sit under a private folder).
    mkdirSync(join(dir, 'bin'), { mode: 0o755 });
    // The bot and the members share the backups folder (same machine): the members push WAL into the
    // pgBackRest repository there, the bot backs up, verifies and restores from it.
    for (const d of [backupDir, join(backupDir, 'pgbackrest'), join(dir, 'pgbackrest')]) {
      mkdirSync(d, { mode: 0o750 });
      own(d);
    }
    for (const [src, name] of [
      [postgresAsset('patroni/post-init.sh'), 'post-init.sh'],
      [postgresAsset('init/01-bootstrap.sql'), '01-bootstrap.sql'],
    ]) {
      copyFileSync(src, join(dir, 'bin', name));
      chmodSync(join(dir, 'bin', name), 0o755);
    }
    mkdirSync(tlsDir, { mode: 0o755 });
    for (const args of [['ca', tlsDir], ...members.map((m) => ['server', tlsDir, m.name, '365', 'DNS:localhost,IP:127.0.0.1', ...(user ? [`${user.uid}:${user.gid}`] : [])])]) {
      const r = spawnSync('sh', [postgresAsset('tls.sh'), ...args], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`tls.sh ${args[0]} failed: ${r.stderr}`);
    }
    launch(
      'etcd',
      [
        ...((opts.dcs ?? 'etcd') === 'etcd' ? ['--enable-v2=true'] : []),
        '--name', 'e1',
        '--data-dir', join(dir, 'etcd'),
        '--listen-client-urls', `http://127.0.0.1:${etcdPort}`,
        '--advertise-client-urls', `http://127.0.0.1:${etcdPort}`,
        '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`,
        '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
        '--initial-cluster', `e1=http://127.0.0.1:${etcdPeer}`,
        '--initial-cluster-state', 'new',
      ],
      'etcd',
      { PATH: process.env.PATH ?? '/usr/bin:/bin', ETCD_UNSUPPORTED_ARCH: process.arch === 'arm64' ? 'arm64' : '' },
      null,
    );
    await until(30_000, 'etcd answers', async () => (await getJson(`http://127.0.0.1:${etcdPort}/health`)).health === 'true');

    for (const m of members) {
      mkdirSync(join(dir, m.name, 'run'), { recursive: true, mode: 0o700 });
      chmodSync(join(dir, m.name), 0o700);
      for (const p of [join(dir, m.name), join(dir, m.name, 'run')]) own(p);
      writeFileSync(m.configPath, JSON.stringify(patroniConfig(m, { dir, tlsDir, archive: join(backupDir, 'pgbackrest'), scope, etcdPort, pgBin, secrets, opts }), null, 2), { mode: 0o600 });
      own(m.configPath);
      writeMemberPgBackRest(m, opts.memberPgBackRest?.(join(backupDir, 'pgbackrest')) ?? {});
    }
    // The first member initialises the cluster alone, so the roles start out as their names say.
    harness.startMember(members[0].name);
    await until(180_000, `${members[0].name} is the leader`, async () => {
      const c = await getJson(`${members[0].apiUrl}/cluster`);
      return c.members?.some((x: { name: string; role: string; state: string }) => x.name === members[0].name && x.role === 'leader' && x.state === 'running');
    });
    for (const m of members.slice(1)) harness.startMember(m.name);
    await until(240_000, 'every member runs and both replicas stream', async () => {
      const c = await getJson(`${members[0].apiUrl}/cluster`);
      if (c.members?.length !== members.length || c.members.some((x: { state: string }) => x.state !== 'running')) return false;
      const leader = await getJson(`${members[0].apiUrl}/patroni`);
      return (leader.replication ?? []).filter((r: { state: string }) => r.state === 'streaming').length === members.length - 1;
    });
    return harness;
  } catch (e) {
    const tails = ['etcd', ...members.map((m) => `patroni-${m.name}`)]
      .map((n) => join(dir, `${n}.log`))
      .filter(existsSync)
      .map((f) => `--- ${f}\n${readFileSync(f, 'utf8').split('\n').slice(-15).join('\n')}`)
      .join('\n');
    await harness.destroy();
    throw new Error(`the Patroni test cluster did not come up: ${(e as Error).message}\n${tails}`);
  }
}

interface ConfigInput {
  dir: string;
  tlsDir: string;
  archive: string;
  scope: string;
  etcdPort: number;
  pgBin: string;
  secrets: Record<string, string>;
  opts: PatroniHarnessOptions;
}

function patroniConfig(m: HarnessMember, c: ConfigInput) {
  const base = join(c.dir, m.name);
  // Patroni's own connections to another member (replication, pg_rewind's source) verify it fully.
  const verify = { sslmode: 'verify-full', sslrootcert: join(c.tlsDir, 'ca.crt') };
  return {
    scope: c.scope,
    namespace: '/clusterbot-test/',
    name: m.name,
    log: { level: 'INFO' },
    restapi: {
      listen: `127.0.0.1:${m.restPort}`,
      connect_address: `127.0.0.1:${m.restPort}`,
      ...(c.opts.restAuth ? { authentication: { username: 'clusterbot', password: c.secrets.PATRONI_PASSWORD } } : {}),
    },
    ctl: c.opts.restAuth ? { authentication: { username: 'clusterbot', password: c.secrets.PATRONI_PASSWORD } } : undefined,
    [c.opts.dcs ?? 'etcd']: { hosts: [`127.0.0.1:${c.etcdPort}`] },
    // Used where the machine has /dev/watchdog (this sandbox has none; Patroni logs that and goes on).
    watchdog: { mode: 'automatic' },
    bootstrap: {
      dcs: {
        ttl: c.opts.ttl ?? 10,
        loop_wait: c.opts.loopWait ?? 2,
        retry_timeout: c.opts.retryTimeout ?? 4,
        maximum_lag_on_failover: 16 * 1024 * 1024,
        // A member whose timeline is behind the cluster's never wins a leader race (docs/patroni.md).
        check_timeline: true,
        ...c.opts.dynamic,
        postgresql: {
          use_pg_rewind: true,
          use_slots: true,
          // A replica that fell behind the primary's wal_keep_size catches up from the archive.
          recovery_conf: { restore_command: 'pgbackrest --stanza=clusterbot archive-get "%f" "%p"' },
          parameters: {
            wal_level: 'replica',
            hot_standby: 'on',
            max_wal_senders: 10,
            max_replication_slots: 10,
            wal_keep_size: '512MB',
            wal_log_hints: 'on',
            max_connections: 100,
            archive_mode: 'on',
            archive_command: 'pgbackrest --stanza=clusterbot archive-push "%p"',
            password_encryption: 'scram-sha-256',
            wal_receiver_status_interval: '1s',
          },
        },
      },
      initdb: [{ encoding: 'UTF8' }, { locale: 'C' }, 'data-checksums'],
      post_bootstrap: `${c.dir}/bin/post-init.sh`,
    },
    postgresql: {
      listen: `127.0.0.1:${m.pgPort}`,
      connect_address: `127.0.0.1:${m.pgPort}`,
      data_dir: m.dataDir,
      bin_dir: c.pgBin,
      pgpass: join(base, 'pgpass'),
      use_unix_socket: true,
      authentication: {
        superuser: { username: 'postgres', password: c.secrets.SUPERUSER_PASSWORD, ...verify },
        replication: { username: 'replicator', password: c.secrets.POSTGRES_REPLICATOR_PASSWORD, ...verify },
      },
      parameters: {
        unix_socket_directories: join(base, 'run'),
        password_encryption: 'scram-sha-256',
        ssl: 'on',
        ssl_cert_file: join(c.tlsDir, `${m.name}.crt`),
        ssl_key_file: join(c.tlsDir, `${m.name}.key`),
      },
      basebackup: [{ checkpoint: 'fast' }],
      pg_hba: [
        'local all postgres peer',
        // TLS only: a plain-TCP connection finds no line and is refused.
        'hostssl all all 127.0.0.1/32 scram-sha-256',
        'hostssl replication replicator 127.0.0.1/32 scram-sha-256',
      ],
    },
    tags: { nofailover: m.nofailover, noloadbalance: false, clonefrom: false, nosync: m.nofailover },
  };
}

// Patroni's and etcd's JSON, read loosely: the tests check the fields they need.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function getJson(url: string): Promise<any> {
  const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return r.json();
}

async function until(timeoutMs: number, what: string, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting until ${what}`);
    await sleep(250);
  }
}

/** A member's pgBackRest configuration (PGBACKREST_CONFIG of its Patroni): the shared repository, its own spool. */
function memberPgBackRestConf(m: { dataDir: string; pgPort: number; name: string }, repo: string, own: string, extra: Record<string, string>): string {
  const global: Record<string, string> = {
    'repo1-path': repo,
    'compress-type': 'zst',
    'archive-async': 'y',
    'spool-path': `${own}/spool`,
    'lock-path': `${own}/lock`,
    'log-level-file': 'off',
    'log-level-console': 'off',
    'log-level-stderr': 'warn',
    ...extra,
  };
  return [
    '[global]',
    ...Object.entries(global).map(([k, v]) => `${k}=${v}`),
    '',
    '[global:archive-get]',
    'archive-async=n',
    '',
    '[clusterbot]',
    `pg1-path=${m.dataDir}`,
    `pg1-port=${m.pgPort}`,
    `pg1-socket-path=${join(dirname(m.dataDir), 'run')}`,
    '',
  ].join('\n');
}

function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Direct children of a process (PostgreSQL's backends and auxiliary processes have the postmaster as parent). */
function childrenOf(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name in /proc/<pid>/stat is parenthesised and may hold spaces: ppid follows the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
