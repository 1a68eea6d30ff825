// Freezing a whole local PostgreSQL instance the way a stalled machine does: SIGSTOP of the
// postmaster and every one of its children (read from /proc here, not with the code under test), and the
// thaw (SIGCONT) afterwards, whatever is left of them.
import { readdirSync, readFileSync } from 'node:fs';

/** The postmaster (from postmaster.pid) and its children, as /proc lists them now. */
export function instancePids(dataDir: string): number[] {
  const postmaster = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
  const children = readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => statFields(pid)?.[1] === String(postmaster));
  return [postmaster, ...children];
}

/** The fields of /proc/<pid>/stat after the command name: state, ppid, …; null when gone. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
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
export const procState = (pid: number): string | null => statFields(pid)?.[0] ?? null;

/** Those of `pids` that still run (not gone, not a zombie). */
export const stillRunning = (pids: number[]) => pids.filter((p) => {
  const s = procState(p);
  return s !== null && s !== 'Z' && s !== 'X';
});
