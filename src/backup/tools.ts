// How the backup module reaches a node to take a base backup: through the runtime that runs the
// nodes (native backend), or over the network with the PostgreSQL tools installed where the bot
// runs (Patroni backend: Patroni runs the nodes, the bot only has their connection info).
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import type { Config, NodeConfig } from '../config.js';
import { pgpassText } from '../runtime/local-config.js';
import { ensurePgBin } from '../runtime/pg-binaries.js';
import { chownTo, runProgram } from '../runtime/process.js';
import type { ExecOptions, ExecResult, Runtime } from '../runtime/runtime.js';
import { UserError } from '../errors.js';
import { caFile, verifyFullConninfo } from '../db/tls.js';
import { mkdirForPostgres, pgUser } from './files.js';

export interface BackupTools {
  /** Folders, binaries and credentials ready (idempotent). */
  prepare(): Promise<void>;
  /** The replication conninfo pg_basebackup uses to reach `source` (user=replicator, passfile, never a password). */
  conninfo(source: NodeConfig): string;
  /** pg_basebackup with these arguments, writing into the backups folder of the bot. */
  basebackup(source: NodeConfig, args: string[], opts: ExecOptions): Promise<ExecResult>;
}

/** The application_name a backup connection shows in pg_stat_replication. */
export const BACKUP_APPLICATION_NAME = 'clusterbot_backup';

/** Native backend: the runtime runs pg_basebackup as its nodes see each other (also inside containers). */
export function runtimeBackupTools(runtime: Runtime): BackupTools {
  return {
    prepare: () => runtime.prepare(),
    conninfo: (source) => runtime.replicationConninfo(source, { ...source, name: BACKUP_APPLICATION_NAME }),
    basebackup: (source, args, opts) => runtime.exec(source, 'pg_basebackup', args, opts),
  };
}

/**
 * Patroni backend: pg_basebackup from this host's PostgreSQL binaries, to the node's host:port from
 * CLUSTER_NODES, with a passfile of the bot's own (0600, owned by the account the tools run as).
 */
export function hostBackupTools(config: Config): BackupTools {
  const passfile = `${config.home}/backup.pgpass`;
  let bin: string | null = null;
  return {
    async prepare() {
      if (/['"\\\s]/.test(config.home)) {
        throw new UserError(`CLUSTERBOT_HOME "${config.home}" contains quotes, backslashes or spaces`, 'choose a plain path', 'config');
      }
      bin ??= ensurePgBin(config.PG_BIN, () => undefined);
      mkdirSync(config.home, { recursive: true });
      mkdirForPostgres(config.backupDir);
      mkdirForPostgres(config.walArchiveDir);
      writeFileSync(passfile, pgpassText(config), { mode: 0o600 });
      chmodSync(passfile, 0o600);
      chownTo(passfile, pgUser());
    },
    conninfo: (source) => `host=${source.host} port=${source.port} user=replicator passfile=${passfile} application_name=${BACKUP_APPLICATION_NAME} ${verifyFullConninfo(caFile(config))}`,
    basebackup(_source, args, opts) {
      if (!bin) throw new Error('backup tools used before prepare()');
      return runProgram(`${bin}/pg_basebackup`, args, {
        ...opts,
        user: pgUser(),
        cwd: config.home,
        env: { PGPASSFILE: passfile, PGCONNECT_TIMEOUT: '5', HOME: config.home },
      });
    },
  };
}

/** The tools of the configured backend. */
export function backupToolsFor(config: Config, runtime: Runtime): BackupTools {
  return config.CLUSTER_BACKEND === 'patroni' ? hostBackupTools(config) : runtimeBackupTools(runtime);
}
