// Freezing a whole local PostgreSQL instance the way a stalled machine does: SIGSTOP of the
// postmaster and every one of its children (read with ps, not with the code under test), and the
// thaw (SIGCONT) afterwards, whatever is left of them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The postmaster (from postmaster.pid) and its children, as `ps` lists them now. */
export function instancePids(dataDir: string): number[] {
  const postmaster = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' })
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((p) => p > 0);
  return [postmaster, ...children];
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
}

/** SIGSTOP, the postmaster first (so it forks nothing new), then its children. */
export const freeze = (pids: number[]) => signal(pids, 'SIGSTOP');
export const thaw = (pids: number[]) => signal(pids, 'SIGCONT');

/** The process state letter (R, S, T stopped, Z zombie…), or null when the pid is gone. */
export function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return null;
  }
}

/** Those of `pids` that still run (not gone, not a zombie). */
export const stillRunning = (pids: number[]) => pids.filter((p) => {
  const s = procState(p);
  return s !== null && s !== 'Z' && s !== 'X';
});
