// Spawning programs, as the postgres OS user when we are root (PostgreSQL refuses to run as root).
import { spawn } from 'node:child_process';
import { chownSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { mkdirPrivate, writePrivate } from '../core/private-files.js';
import { UserError } from '../errors.js';
import type { ExecOptions, ExecResult } from './runtime.js';

export interface OsUser {
  uid: number;
  gid: number;
  name: string;
}

/** The account PostgreSQL runs as: postgres when we are root, otherwise ourselves (null). */
export function postgresOsUser(): OsUser | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) {
    throw new UserError(
      'running as root, but there is no `postgres` OS user to run PostgreSQL as',
      'install postgresql-common (it creates the user) or run clusterbot as a normal user',
      'prerequisite',
    );
  }
  const [, , uid, gid] = line.split(':');
  return { name: 'postgres', uid: Number(uid), gid: Number(gid) };
}

/** The group of the OS user PostgreSQL runs as when we are root, else null (also when it has none). */
export function postgresGroup(): number | null {
  try {
    return postgresOsUser()?.gid ?? null;
  } catch {
    return null;
  }
}

export function chownTo(path: string, user: OsUser | null): void {
  if (user) chownSync(path, user.uid, user.gid);
}

export interface RunOptions extends ExecOptions {
  env?: Record<string, string>;
  cwd?: string;
  user?: OsUser | null;
  /** Put the child in its own session so a signal to our process group does not reach it. */
  detached?: boolean;
}

export function runProgram(cmd: string, args: string[], opts: RunOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...opts.env },
      uid: opts.user?.uid,
      gid: opts.user?.gid,
      detached: opts.detached ?? false,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) {
      timer = setTimeout(() => {
        stderr += `\n(timed out after ${opts.timeoutMs} ms)`;
        child.kill('SIGKILL');
      }, opts.timeoutMs);
    }
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      opts.onOutput?.(d.toString());
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      opts.onOutput?.(d.toString());
    });
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? '');
  });
}

/** A live postmaster: the pid exists, is not a zombie, and is a postgres process (not a recycled pid). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // A recycled pid is not our postmaster.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /\((postgres|postmaster)\)/.test(stat) && !/\) Z /.test(stat);
  } catch {
    return true;
  }
}

/** Our daemon `comm` (pgbouncer, haproxy) is alive at `pid`: not a zombie, not a pid another program reuses. */
export function daemonAlive(pid: number, comm: string): boolean {
  try {
    return new RegExp(`\\(${comm}\\) [^Z]`).test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Stop our daemon: SIGTERM, SIGKILL after 5 s, and wait until it is gone (10 s at most). */
export async function stopDaemon(pid: number, comm: string): Promise<void> {
  process.kill(pid, 'SIGTERM');
  const t0 = Date.now();
  while (daemonAlive(pid, comm)) {
    if (Date.now() - t0 > 5000) process.kill(pid, 'SIGKILL');
    if (Date.now() - t0 > 10_000) throw new Error(`${comm} (pid ${pid}) did not stop`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A folder (0700) for a daemon that runs as `user` (the postgres OS user when we are root). */
export function daemonDir(dir: string, user: OsUser | null): void {
  mkdirPrivate(dir);
  chownTo(dir, user);
}

/** A daemon's file (0600, owned by `user`) at a temporary name; the caller renames it into place. */
export function writeDaemonFile(path: string, text: string, user: OsUser | null): string {
  const tmp = `${path}.tmp`;
  writePrivate(tmp, text);
  chownTo(tmp, user);
  return tmp;
}

export function isZombie(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}
