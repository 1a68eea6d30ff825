// One backup operation at a time, across processes too (the bot's schedule and a one-shot
// `clusterbot run`): a lock file holding our pid. A second one is refused, not queued.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { UserError } from '../errors.js';

export function takeLock(file: string, what: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, JSON.stringify({ pid: process.pid, what, at: new Date().toISOString() }), { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readHolder(file);
      if (holder && holder.pid !== process.pid && pidAlive(holder.pid)) {
        throw new UserError(`${holder.what} is already in progress (process ${holder.pid}, since ${holder.at.slice(11, 19)} UTC)`, 'wait for it to finish, then try again', 'busy');
      }
      rmSync(file, { force: true }); // left behind by a process that died
    }
  }
  throw new UserError('another backup operation holds the backup lock', 'wait for it to finish, then try again', 'busy');
}

export function readHolder(file: string): { pid: number; what: string; at: string } | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
