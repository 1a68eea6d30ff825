// Where pgBackRest runs. Repository commands (info, verify, expire, annotate, restore into a scratch
// folder) run on the bot's host against the repository there. Database commands (backup, check,
// stanza-create) run where they can reach the nodes' data directories: on this host for the local
// runtime and for Patroni members on this machine, inside a node's container with Docker (the standby's
// for a backup from a standby, through the primary's pgBackRest TLS server).
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config, NodeConfig } from '../../config.js';
import type { ExecOptions, ExecResult, Runtime } from '../../runtime/runtime.js';
import { chownTo, runProgram } from '../../runtime/process.js';
import { UserError } from '../../errors.js';
import { mkdirForPostgres, pgUser } from '../files.js';
import { clusterConfText, commandLineOptions, pgbackrestPaths, type PgTarget } from './conf.js';
import { repoOptions } from './repos.js';
import { writePgBackRestConf } from './run.js';
import { rotateLogs } from './logs.js';

export interface PgBackRestSite {
  /** Folders and the bot's configuration ready (idempotent). */
  prepare(): Promise<void>;
  /** A repository command on the bot's host (info, verify, expire, annotate, restore). */
  repo(args: string[], opts?: ExecOptions): Promise<ExecResult>;
  /**
   * A database command (backup, check) with these nodes as pg1, pg2…: the primary first, then the
   * standby to copy from, if any. Returns the node that served it.
   */
  db(nodes: string[], args: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Whether a backup can be copied from a standby here (pgBackRest reaches both data directories). */
  readonly standbyBackups: boolean;
}

const run = (config: Config, conf: string, args: string[], opts: ExecOptions = {}) =>
  runProgram('pgbackrest', [`--config=${conf}`, `--stanza=${config.BACKUP_STANZA}`, ...args], {
    ...opts,
    user: pgUser(),
    cwd: '/tmp',
    env: { HOME: config.home },
  });

/**
 * pgBackRest on this host: the local runtime, and Patroni members on this machine. The bot's
 * configuration holds the repository and global options only; the nodes are passed per command as
 * pgN (roles change with every failover, and a fenced old primary must never be asked).
 */
export function hostSite(config: Config, prepareNodes: () => Promise<void>, targetOf: (node: string) => Promise<PgTarget>): PgBackRestSite {
  const p = pgbackrestPaths(config);
  return {
    standbyBackups: true,
    async prepare() {
      await prepareNodes();
      mkdirSync(config.home, { recursive: true });
      for (const d of [config.backupDir, p.repo, p.dir, `${p.dir}/lock`, `${p.dir}/log`, `${p.dir}/spool`]) mkdirForPostgres(d);
      rotateLogs(`${p.dir}/log`);
      // 0600 to the postgres user: with an encrypted or S3 repository it holds the passphrase and keys.
      writeFileSync(p.conf, clusterConfText(config), { mode: 0o600 });
      chmodSync(p.conf, 0o600);
      chownTo(p.conf, pgUser());
    },
    repo: (args, opts) => run(config, p.conf, args, opts),
    async db(nodes, args, opts) {
      const targets = await Promise.all(nodes.map(targetOf));
      return run(config, p.conf, [...pgOptions(targets), ...args], opts);
    },
  };
}

/**
 * Docker runtime: the repository is the shared backups folder (/backups/pgbackrest in every node, the
 * bot's BACKUP_DIR/pgbackrest on the host). A database command runs inside a node's container with the
 * node image's configuration plus the bot's options. A backup from a standby runs in the standby's
 * container, so its files go from its own disk into the shared repository, with the primary as a
 * remote pg host reached through pgBackRest's TLS server in the primary's container (client
 * certificate of the cluster CA); otherwise it runs in the primary's container. As on the host, only
 * the nodes passed are configured (pg1, pg2): a fenced node is never asked.
 */
export function dockerSite(config: Config, runtime: Runtime): PgBackRestSite {
  const host = hostSite(config, () => runtime.prepare(), () => Promise.reject(new Error('no local data directories with RUNTIME=docker')));
  const nodeNamed = (name: string | undefined) => config.nodes.find((n) => n.name === name);
  // Before any container starts: the primary's first start creates the stanza with it.
  writeNodeCipher(config);
  return {
    standbyBackups: true,
    async prepare() {
      writeNodeCipher(config);
      await host.prepare();
      rotateLogs(join(config.backupDir, DOCKER_LOG_FOLDER));
    },
    repo: host.repo,
    async db(nodes, args, opts) {
      const primary = nodeNamed(nodes[0]);
      if (!primary) throw new UserError('no writable primary to back up', 'bring the cluster up (/cluster up) and try again', 'precondition');
      const standby = nodeNamed(nodes[1]);
      const command = args.at(-1) ?? '';
      const options = [`--stanza=${config.BACKUP_STANZA}`, ...commandLineOptions(config, DOCKER_REPO, command), ...dockerLogOptions(command)];
      if (standby) {
        const ping = await pingServer(runtime, standby, primary.name);
        if (ping.code !== 0) return withServerHint(ping, primary.name);
      }
      const r = await runtime.exec(standby ?? primary, 'pgbackrest', [...options, ...dockerPgOptions(primary.name, standby?.name), ...args], opts);
      return standby ? withServerHint(r, primary.name) : r;
    },
  };
}

/** The repository inside a node container (the shared backups volume). */
export const DOCKER_REPO = '/backups/pgbackrest';

/** pgBackRest's log of the bot's commands in the containers: on the shared backups volume (the bot's BACKUP_DIR/pgbackrest-log). */
const DOCKER_LOG_FOLDER = 'pgbackrest-log';
export const DOCKER_LOG = `/backups/${DOCKER_LOG_FOLDER}`;

/** In TLS_DIR (/tls in every node, which holds the CA's key already): the nodes' repository passphrase. */
export const DOCKER_CIPHER_FILE = 'pgbackrest-cipher.conf';

/**
 * The repository encryption for the nodes' pgBackRest (archive-push, the backups in the containers):
 * a 0600 file the entrypoint copies into /etc/pgbackrest/conf.d — never a container's environment,
 * which `docker inspect` shows to anyone with the Docker socket. Removed when repo1 is not encrypted.
 */
function writeNodeCipher(config: Config): void {
  const file = `${config.tlsDir}/${DOCKER_CIPHER_FILE}`;
  const cipher = Object.entries(repoOptions(config, { repo1: DOCKER_REPO })).filter(([k]) => k.startsWith('repo1-cipher-'));
  if (cipher.length) {
    mkdirSync(config.tlsDir, { recursive: true });
    // Owned by the bot's account: the entrypoint (root) reads it.
    writePgBackRestConf(file, { global: Object.fromEntries(cipher) }, null);
  } else {
    rmSync(file, { force: true });
  }
}

/** Paths inside every node container (postgres/docker/node-tool.sh). */
const IN_NODE = {
  data: '/var/lib/postgresql/data/pgdata',
  socket: '/var/run/postgresql',
  ca: '/var/lib/postgresql/data/ca.crt',
  clientCert: '/var/lib/postgresql/data/pgbackrest-client.crt',
  clientKey: '/var/lib/postgresql/data/pgbackrest-client.key',
};

/**
 * pg1 the primary, pg2 the standby the backup runs beside (its data directory is local to the command).
 * Without a standby, pg1 is the primary's own data directory. The host name is the node's name on the
 * container network (the runtime's serviceOf), which its certificate names.
 */
function dockerPgOptions(primary: string, standby: string | undefined): string[] {
  const local = (i: number) => [`--pg${i}-path=${IN_NODE.data}`, `--pg${i}-port=5432`, `--pg${i}-socket-path=${IN_NODE.socket}`];
  if (!standby) return local(1);
  return [
    ...local(1),
    `--pg1-host=postgresql-${primary}`,
    '--pg1-host-type=tls',
    `--pg1-host-ca-file=${IN_NODE.ca}`,
    `--pg1-host-cert-file=${IN_NODE.clientCert}`,
    `--pg1-host-key-file=${IN_NODE.clientKey}`,
    ...local(2),
  ];
}

/**
 * A backup from a standby that could not reach the primary's pgBackRest server (a container of an older
 * image has none, or the server died): its error line names the server and the way out. pgBackRest's
 * error is often "unable to find primary cluster", with the connection failure in a warning before it.
 */
function withServerHint(r: ExecResult, primary: string): ExecResult {
  const host = `postgresql-${primary}`;
  const line = /^.*ERROR: \[\d+\]: .*$/m.exec(r.stderr)?.[0];
  if (r.code === 0 || !line || !r.stderr.includes(`'${host}:${PGBACKREST_SERVER_PORT}`)) return r;
  const hint = ` (pgBackRest's TLS server in ${host}'s container, port ${PGBACKREST_SERVER_PORT}: re-create that container from the current node image, or set BACKUP_FROM=primary)`;
  return { ...r, stderr: r.stderr.replace(line, `${line}${hint}`) };
}

/** The pgBackRest server's port in every node (postgres/docker/node-tool.sh). */
const PGBACKREST_SERVER_PORT = 8432;

/**
 * pgBackRest tries a server that does not answer for twice its io-timeout (60 s), so a backup from a
 * replica with the primary's server dead failed after two minutes. server-ping from the replica's
 * container tries for twice SERVER_PING_SECONDS: longer than the node's supervisor takes to restart
 * a server that exited (5 s), short enough for the card to say so within seconds.
 */
const SERVER_PING_SECONDS = 8;

function pingServer(runtime: Runtime, from: NodeConfig, primary: string): Promise<ExecResult> {
  const args = ['server-ping', `--io-timeout=${SERVER_PING_SECONDS}`, `--tls-server-port=${PGBACKREST_SERVER_PORT}`, `postgresql-${primary}`];
  return runtime.exec(from, 'pgbackrest', args, { timeoutMs: 60_000 });
}

/** A backup logs every file and the host it was read from (pgBackRest's detail level); other commands their steps. */
function dockerLogOptions(command: string): string[] {
  return [`--log-path=${DOCKER_LOG}`, `--log-level-file=${command === 'backup' ? 'detail' : 'info'}`];
}

function pgOptions(targets: PgTarget[]): string[] {
  return targets.flatMap((t, i) => [`--pg${i + 1}-path=${t.data}`, `--pg${i + 1}-port=${t.port}`, `--pg${i + 1}-socket-path=${t.socket}`]);
}

/** The last meaningful lines pgBackRest printed (its errors carry a code: "ERROR: [056]: …"). */
export function pgbackrestError(r: ExecResult): string {
  const lines = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter((l) => /^(ERROR|ASSERT)/.test(l) || /HINT:/.test(l));
  return (errors.length ? errors : lines).slice(-3).join(' | ').replace(/^ERROR: /, '') || `exit ${r.code}`;
}
