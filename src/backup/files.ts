// File work for backups: folders owned by the PostgreSQL OS user, sizes, checksums, tar extraction.
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, closeSync, createReadStream, lstatSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { postgresOsUser, type OsUser } from '../runtime/process.js';

/** The account PostgreSQL tools run as (null: ourselves). Read once. */
let osUser: OsUser | null | undefined;
export function pgUser(): OsUser | null {
  if (osUser === undefined) osUser = postgresOsUser();
  return osUser;
}

/** A folder PostgreSQL programs (run as the postgres OS user) may write into. */
export function mkdirForPostgres(path: string, mode = 0o750): void {
  const first = mkdirSync(path, { recursive: true, mode });
  const u = pgUser();
  // Every folder created on the way (e.g. backups/full) must be reachable by PostgreSQL too.
  const created = first ? [path] : [];
  for (let p = dirname(path); first && p.length >= first.length; p = dirname(p)) created.push(p);
  for (const p of created) {
    chmodSync(p, mode);
    if (u) chownSync(p, u.uid, u.gid);
  }
  chmodSync(path, mode);
  if (u) chownSync(path, u.uid, u.gid);
}

export function chownTreeToPostgres(path: string): void {
  const u = pgUser();
  if (!u) return;
  chownSync(path, u.uid, u.gid);
  if (!lstatSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) chownTreeToPostgres(join(path, name));
}

export function fileSize(path: string): number {
  return statSync(path).size;
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/**
 * Run the system tar (GNU tar and gzip, in every Debian base) with `input` open as its stdin.
 * A separate process, not node-tar in our event loop: under heavy CPU load node-tar's extraction
 * inside the bot stalled now and then, half done, until the operation's deadline.
 */
function runTar(args: string[], input: string | null, user: OsUser | null, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fd = input === null ? null : openSync(input, 'r');
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn('tar', args, {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
        uid: user?.uid,
        gid: user?.gid,
        stdio: [fd ?? 'ignore', 'ignore', 'pipe'],
      });
    } finally {
      if (fd !== null) closeSync(fd); // the child has its own copy
    }
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const fail = (why: string) => reject(new Error(`${what}: ${why}`));
    child.on('error', (e) => fail(e.message));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const line = stderr.split('\n').find((l) => l.trim() && !/Exiting with failure status/.test(l));
      fail(line?.replace(/^(tar|gzip): (stdin: )?/, '').trim() ?? `tar exited with ${signal ?? code}`);
    });
  });
}

/** Extract a gzip'd tar into `dir`, everything owned by the PostgreSQL OS user. */
export async function extractTar(file: string, dir: string): Promise<void> {
  mkdirForPostgres(dir, 0o700);
  // Run as the postgres OS user (when we are root): files come out owned by it, with their modes.
  // The archive is opened here, so that user needs no right to read the backup folder.
  await runTar(['-x', '-z', '-p', '--no-same-owner', '-f', '-', '-C', dir], file, pgUser(), `${file.split('/').slice(-2).join('/')} cannot be extracted`);
}

/** Write a gzip'd tar of `names` (files inside `cwd`), without owner names or ids. */
export async function createTarGz(file: string, cwd: string, names: string[], level: number): Promise<void> {
  const args = ['-c', '-f', file, `--use-compress-program=gzip -${level}`, '--owner=0', '--group=0', '--numeric-owner', '-C', cwd, '--', ...names];
  await runTar(args, null, null, `${file.split('/').slice(-2).join('/')} cannot be written`);
}
