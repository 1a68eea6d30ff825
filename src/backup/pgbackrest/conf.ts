// The pgBackRest configuration files the bot writes, as text: pure functions of the configuration.
// One file per node for archive-push/archive-get (its own data directory, spool and lock folders,
// so two nodes never share an async queue) and one for the bot's own commands.
import { availableParallelism } from 'node:os';
import { COMPRESS_LEVEL_DEFAULT, type Config } from '../../config.js';
import { repoOptions, s3Enabled, SECURE_OPTION } from './repos.js';

/** Where pgBackRest's files live on the bot's host. */
export interface PgBackRestPaths {
  /** CLUSTERBOT_HOME/pgbackrest: configuration files, logs, locks, spool. */
  dir: string;
  /** The bot's configuration (every node). */
  conf: string;
  /** repo1-path: BACKUP_DIR/pgbackrest. */
  repo: string;
}

export function pgbackrestPaths(config: Config): PgBackRestPaths {
  const dir = `${config.home}/pgbackrest`;
  return { dir, conf: `${dir}/pgbackrest.conf`, repo: config.walArchiveDir };
}

export const nodeConfFile = (config: Config, node: string) => `${pgbackrestPaths(config).dir}/node-${node}.conf`;

/** One PostgreSQL instance pgBackRest reaches through its Unix socket (no password, peer as postgres). */
export interface PgTarget {
  name: string;
  data: string;
  socket: string;
  port: number;
}

export const processMax = (config: Config) => config.BACKUP_PROCESS_MAX ?? availableParallelism();

/** BACKUP_COMPRESS_LEVEL, or the default level of BACKUP_COMPRESS_TYPE. */
export const compressLevel = (config: Config) => config.BACKUP_COMPRESS_LEVEL ?? COMPRESS_LEVEL_DEFAULT[config.BACKUP_COMPRESS_TYPE];

/** Options every pgBackRest command of the bot shares (repositories, compression, parallelism). */
export function commonOptions(config: Config, repo: string): Record<string, string> {
  return {
    ...repoOptions(config, { repo1: repo }),
    'compress-type': config.BACKUP_COMPRESS_TYPE,
    'compress-level': String(compressLevel(config)),
    'process-max': String(processMax(config)),
    // A backup starts with an immediate checkpoint, as our clones do (a spread one waited minutes).
    'start-fast': 'y',
    // Command output (info JSON, verify text) alone on stdout; warnings and errors on stderr.
    'log-level-console': 'off',
    'log-level-stderr': 'warn',
    // An unreachable bucket fails within ~4 × io-timeout (pgBackRest retries), not 4 minutes.
    ...(s3Enabled(config) ? { 'io-timeout': String(config.BACKUP_S3_TIMEOUT_SECONDS) } : {}),
  };
}

/**
 * The same options for a command line, where pgBackRest refuses an option the command does not take
 * (compression and parallelism only for backup, retention only for backup and expire).
 */
export function commandLineOptions(config: Config, repo: string, command: string): string[] {
  const all = commonOptions(config, repo);
  const backupOnly = ['compress-type', 'compress-level', 'process-max', 'start-fast'];
  return Object.entries(all)
    // Secrets never go on a command line (pgBackRest refuses them there; a process listing would show them).
    .filter(([k]) => !SECURE_OPTION.test(k))
    .filter(([k]) => command === 'backup' || (!backupOnly.includes(k) && !(k.includes('-retention-') && command !== 'expire')))
    .map(([k, v]) => `--${k}=${v}`);
}

export function iniText(sections: Record<string, Record<string, string>>): string {
  return Object.entries(sections)
    .map(([name, opts]) => [`[${name}]`, ...Object.entries(opts).map(([k, v]) => `${k}=${v}`)].join('\n'))
    .join('\n\n')
    .concat('\n');
}

/** The bot's configuration: repositories and global options; the nodes come per command (site.ts). */
export function clusterConfText(config: Config): string {
  const p = pgbackrestPaths(config);
  return iniText({
    global: {
      ...commonOptions(config, p.repo),
      'lock-path': `${p.dir}/lock`,
      'log-path': `${p.dir}/log`,
      'spool-path': `${p.dir}/spool/bot`,
      ...(s3Enabled(config) ? { 'archive-timeout': String(backupArchiveTimeout(config)) } : {}),
    },
  });
}

/**
 * How long a backup waits for its last WAL segment to reach the repository. With the bucket down,
 * every archive-push spends ~8 × io-timeout failing on repo2 (and PostgreSQL waits before retrying)
 * while it still writes repo1: the default 60 s would fail the repo1 backup too.
 */
export const backupArchiveTimeout = (config: Config) => 60 + 16 * config.BACKUP_S3_TIMEOUT_SECONDS;

/**
 * A node's own configuration: archive-push (asynchronous, its own spool) and archive-get for its
 * restore_command — synchronous: an asynchronous archive-get of a segment that is not in the queue
 * sleeps 100 ms, 200 ms, 400 ms… for its helper, and a promotion waits for every restore_command
 * the startup process runs (the segment after the last one, the timeline history files).
 */
export function nodeConfText(config: Config, t: PgTarget): string {
  const p = pgbackrestPaths(config);
  return iniText({
    global: {
      ...commonOptions(config, p.repo),
      'archive-async': 'y',
      'spool-path': `${p.dir}/spool/${t.name}`,
      'lock-path': `${p.dir}/lock/${t.name}`,
      'log-path': `${p.dir}/log`,
      // The archiver waits for the async push; a stuck repository fails the command, never hangs it.
      'archive-timeout': '60',
    },
    'global:archive-get': { 'archive-async': 'n' },
    [config.BACKUP_STANZA]: { 'pg1-path': t.data, 'pg1-port': String(t.port), 'pg1-socket-path': t.socket },
  });
}

/** The restore_command guard (postgres/restore-if-archived.sh), copied beside the nodes' configuration. */
export const restoreGuardFile = (config: Config) => `${pgbackrestPaths(config).dir}/restore-if-archived.sh`;

/**
 * archive_command and restore_command of a node whose pgBackRest configuration is `conf`. With
 * `guard` (repo1 on this filesystem and the only repository), restore_command runs the script
 * postgres/restore-if-archived.sh, which asks pgBackRest only for a file the repository holds;
 * the Docker node image runs the same script.
 */
export function archiveCommands(stanza: string, conf: string, guard?: { script: string; repo: string }): { archive: string; restore: string } {
  const base = `pgbackrest --config=${conf} --stanza=${stanza}`;
  return {
    archive: `${base} archive-push "%p"`,
    restore: guard ? `sh "${guard.script}" "${guard.repo}" ${stanza} "%f" "%p" --config=${conf}` : `${base} archive-get "%f" "%p"`,
  };
}
