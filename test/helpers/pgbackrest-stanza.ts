// A pgBackRest stanza over a test cluster's primary, for the tests and the bench until the pgBackRest
// engine writes it itself: the configuration from repoOptions (repo1 under the backups folder, repo2
// when the cluster's config names a bucket) written by writePgBackRestConf, and archive_command set to
// archive-push so every backup's WAL reaches the repositories.
import { readFileSync } from 'node:fs';
import type { TestCluster } from './cluster.js';
import { describeRepos, repoOptions, type RepoPaths } from '../../src/backup/pgbackrest/repos.js';
import { runPgBackRest, writePgBackRestConf, type PgBackRestRunOptions } from '../../src/backup/pgbackrest/run.js';
import { mkdirForPostgres } from '../../src/backup/files.js';
import { ScratchInstance } from '../../src/backup/scratch.js';
import { LocalRuntime } from '../../src/runtime/local.js';

export interface TestStanza {
  name: string;
  dir: string;
  paths: RepoPaths;
  run: PgBackRestRunOptions;
  /** pgbackrest --stanza=NAME ARGS… with the stanza's configuration. */
  exec(args: string[]): ReturnType<typeof runPgBackRest>;
}

export async function setUpStanza(c: TestCluster, global: Record<string, string> = {}, node = c.config.nodes[0]): Promise<TestStanza> {
  const runtime = c.app.services.runtime as LocalRuntime;
  const name = 'clusterbot';
  const dir = `${c.home}/pgbackrest`;
  const paths: RepoPaths = { repo1: `${c.config.backupDir}/pgbackrest` };
  for (const d of [dir, `${dir}/log`, `${dir}/lock`, `${dir}/spool`, paths.repo1]) mkdirForPostgres(d, 0o750);
  const run: PgBackRestRunOptions = { configFile: `${dir}/pgbackrest.conf`, repos: describeRepos(c.config, paths), timeoutMs: 1_800_000 };
  writePgBackRestConf(run.configFile, {
    global: {
      ...repoOptions(c.config, paths),
      'start-fast': 'y',
      'log-path': `${dir}/log`,
      'lock-path': `${dir}/lock`,
      'spool-path': `${dir}/spool`,
      'log-level-console': 'warn',
      'log-level-file': 'detail',
      ...global,
    },
    [name]: { 'pg1-path': runtime.paths(node).data, 'pg1-port': String(node.port), 'pg1-socket-path': runtime.paths(node).run },
  });
  await c.sql(node.name, `ALTER SYSTEM SET archive_command = 'pgbackrest --config=${run.configFile} --stanza=${name} archive-push %p'`);
  await c.sql(node.name, 'SELECT pg_reload_conf()');
  return { name, dir, paths, run, exec: (args) => runPgBackRest([`--stanza=${name}`, ...args], run) };
}

/**
 * `pgbackrest restore` (with `args`, e.g. --repo=2 --set=…) into a new scratch instance, which is then
 * started on its own port with the restore_command pgBackRest wrote; the caller destroys it.
 */
export async function restoreIntoScratch(c: TestCluster, s: TestStanza, args: string[], startSeconds = 600): Promise<ScratchInstance> {
  const scratch = await ScratchInstance.create(c.config);
  try {
    mkdirForPostgres(scratch.data, 0o700);
    await s.exec([`--pg1-path=${scratch.data}`, '--type=immediate', '--target-action=promote', ...args, 'restore']);
    const line = readFileSync(`${scratch.data}/postgresql.auto.conf`, 'utf8').split('\n').find((l) => l.startsWith('restore_command'));
    const restoreCommand = /^restore_command\s*=\s*'(.*)'\s*$/.exec(line ?? '')?.[1]?.replace(/''/g, "'");
    if (!restoreCommand) throw new Error(`pgbackrest restore wrote no restore_command into postgresql.auto.conf (found: ${line ?? 'nothing'})`);
    // The scratch settings (port, socket, no archiving) with pgBackRest's own restore_command.
    scratch.configureRecovery({ restoreCommand, targetTime: null });
    await scratch.start(startSeconds);
    return scratch;
  } catch (e) {
    await scratch.destroy();
    throw e;
  }
}
