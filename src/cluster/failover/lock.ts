// One failover, switchover or rejoin at a time — across processes too (`clusterbot run --confirm`
// beside a running bot): a lock file in CLUSTERBOT_HOME holding the owner's pid.
import { randomBytes } from 'node:crypto';
import { closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { openPrivate } from '../../core/private-files.js';
import { UserError } from '../../errors.js';

export interface LockInfo {
  op: string;
  by: string;
  pid: number;
  at: string;
  token: string;
}

export const lockPath = (home: string) => `${home}/operation.lock`;

/** Who holds the lock now, or null (a lock left by a dead process is stale and ignored). */
export function currentHolder(home: string): LockInfo | null {
  let info: LockInfo;
  try {
    info = JSON.parse(readFileSync(lockPath(home), 'utf8')) as LockInfo;
  } catch {
    return null;
  }
  return pidAlive(info.pid) && !leftByEarlierProcess(info.pid, info.at) ? info : null;
}

/**
 * Our own pid on a lock (or journal) written before this process started: a previous bot with the
 * same pid left it (a container restarts its bot as pid 1 again), so it is stale, not ours.
 */
export function leftByEarlierProcess(pid: number, at: string): boolean {
  return pid === process.pid && Date.parse(at) < Date.now() - process.uptime() * 1000;
}

/** A sentence for the person when another operation runs, else null. */
export function busyReason(home: string): string | null {
  const h = currentHolder(home);
  if (!h) return null;
  return `${h.op} is already in progress, started by ${h.by} at ${h.at.slice(11, 19)} UTC (pid ${h.pid}) — wait for it to finish, then check /cluster status`;
}

/** Run `fn` holding the lock; refuses with a UserError when another operation holds it. */
export async function withOperationLock<T>(home: string, op: string, by: string, fn: () => Promise<T>): Promise<T> {
  const info: LockInfo = { op, by, pid: process.pid, at: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  acquire(home, info);
  try {
    return await fn();
  } finally {
    release(home, info.token);
  }
}

function acquire(home: string, info: LockInfo): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openPrivate(lockPath(home), 'wx');
      try {
        writeSync(fd, JSON.stringify(info));
      } finally {
        closeSync(fd);
      }
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const reason = busyReason(home);
    if (reason) throw new UserError(reason.split(' — ')[0], reason.split(' — ')[1], 'busy');
    rmSync(lockPath(home), { force: true }); // stale: its process is gone
  }
  throw new UserError(`could not take the operation lock ${lockPath(home)}`, 'try again in a moment', 'busy');
}

function release(home: string, token: string): void {
  try {
    const info = JSON.parse(readFileSync(lockPath(home), 'utf8')) as LockInfo;
    if (info.token === token) rmSync(lockPath(home), { force: true });
  } catch {
    // already gone
  }
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
