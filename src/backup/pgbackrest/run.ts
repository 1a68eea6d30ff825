// Running pgBackRest: its configuration file (which holds the repositories' secrets) and the one-line
// error a failed run becomes. The secrets travel only in that file, mode 0600 and owned by the OS user
// pgBackRest runs as: pgBackRest refuses them on a command line (process listings), and the child gets
// no PGBACKREST_* or AWS_* variables from us (an environment is inherited by every child and shows in
// /proc/PID/environ), while archive_command — started by PostgreSQL, not by us — can read the file too.
import { chmodSync, chownSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { UserError } from '../../errors.js';
import { runProgram, type OsUser } from '../../runtime/process.js';
import type { ExecResult } from '../../runtime/runtime.js';
import { pgUser } from '../files.js';
import type { RepoDescription } from './repos.js';

export interface PgBackRestRunOptions {
  /** The configuration file (--config), written by writePgBackRestConf. */
  configFile: string;
  /** The configured repositories (describeRepos), to name the one that failed. */
  repos: RepoDescription[];
  /** The OS user to run as; default: the postgres OS user when we are root, else ourselves. */
  user?: OsUser | null;
  timeoutMs?: number;
}

/** Writes a pgBackRest configuration ([section] key=value) readable by its owner only, atomically. */
export function writePgBackRestConf(path: string, sections: Record<string, Record<string, string>>, user: OsUser | null = pgUser()): void {
  const text = Object.entries(sections)
    .map(([name, options]) => [`[${name}]`, ...Object.entries(options).map(([k, v]) => `${k}=${v}`)].join('\n'))
    .join('\n\n');
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    // Created 0600 before any secret is written into it; an older file is replaced whole.
    writeFileSync(tmp, `${text}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(tmp, 0o600);
    if (user) chownSync(tmp, user.uid, user.gid);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Runs `pgbackrest --config=FILE ARGS…`; a non-zero exit becomes a one-line UserError naming the repository. */
export async function runPgBackRest(args: string[], opts: PgBackRestRunOptions): Promise<ExecResult> {
  let result: ExecResult;
  try {
    // runProgram passes PATH and LANG only: none of our environment (and no secret) reaches the child.
    result = await runProgram('pgbackrest', [`--config=${opts.configFile}`, ...args], {
      user: opts.user === undefined ? pgUser() : opts.user,
      timeoutMs: opts.timeoutMs,
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UserError('pgbackrest is not installed', 'install it (Debian/Ubuntu: sudo apt-get install pgbackrest), then try again', 'prerequisite');
    }
    throw e;
  }
  if (result.code !== 0) throw pgBackRestFailure(args, result, opts.repos);
  return result;
}

/** "pgBackRest backup on repo2 (S3 bucket …) failed: <pgBackRest's error> — <what to check>, then …". */
export function pgBackRestFailure(args: string[], result: ExecResult, repos: RepoDescription[]): UserError {
  const command = args.find((a) => !a.startsWith('-')) ?? 'command';
  const output = `${result.stdout}\n${result.stderr}`;
  const error = /ERROR: \[\d+\]: ([^\n]+)/.exec(output)?.[1]?.trim();
  const timedOut = /\(timed out after \d+ ms\)/.exec(output)?.[0];
  const reason = error ?? timedOut ?? (output.trim().split('\n').pop() || `exit code ${result.code}`);
  const repo = failedRepo(args, reason, repos);
  const where = repo ? ` on ${repo.label}` : '';
  const next = deliveryHint(output, repo) ?? (repo ? `${repo.check}, then run it again` : `check the repositories (${repos.map((r) => r.label).join(', ')}), then run it again`);
  return new UserError(`pgBackRest ${command}${where} failed: ${reason}`, next, 'precondition');
}

/**
 * The next step when the repository answers but the nodes' archive_command does not write to it: a
 * node configuration without this repository or its cipher (Patroni members write their own).
 */
function deliveryHint(output: string, repo: RepoDescription | undefined): string | null {
  const name = repo ? `repo${repo.index}` : 'the repository';
  const members = `every node's pgBackRest configuration must carry the bot's repositories and cipher (repo1-*, repo2-*, repoN-cipher-*; Patroni members: docs/patroni-backups.md), and the WAL archiver must work (/cluster status)`;
  if (/was not archived before the \d+ms timeout/.test(output)) return `the primary's archive_command did not deliver WAL to ${name}: ${members}, then run it again`;
  // Only when both info files are really missing: an unreachable bucket prints the same hint.
  const causes = output.match(/\b\w+Error(?=: )/g) ?? [];
  if (/has a stanza-create been performed/.test(output) && causes.length > 0 && causes.every((c) => c === 'FileMissingError')) {
    return `${name} has no stanza: ${members}; then run pgbackrest --stanza=<stanza> stanza-create once on the primary (with that configuration) and run it again`;
  }
  return null;
}

/** The repository named by the error itself, by --repo=N, by its address in the error, or the only one there is. */
function failedRepo(args: string[], reason: string, repos: RepoDescription[]): RepoDescription | undefined {
  const byIndex = (i: number) => repos.find((r) => r.index === i);
  const named = /\brepo(\d+)\b/.exec(reason);
  if (named && byIndex(Number(named[1]))) return byIndex(Number(named[1]));
  const arg = args.map((a) => /^--repo=(\d+)$/.exec(a)).find(Boolean);
  if (arg) return byIndex(Number(arg[1]));
  const byAddress = repos.find((r) => reason.includes(r.address));
  return byAddress ?? (repos.length === 1 ? repos[0] : undefined);
}
