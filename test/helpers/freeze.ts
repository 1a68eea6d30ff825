// Freezing a whole local PostgreSQL instance the way a stalled VM or disk does: SIGSTOP to the
// postmaster and every process it started (found through /proc), SIGCONT to thaw them.
import { readdirSync, readFileSync } from 'node:fs';

/** The postmaster and all its descendants, postmaster first. */
export function instancePids(postmaster: number): number[] {
  const parents = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = /^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1];
      if (ppid) parents.set(Number(d), Number(ppid));
    } catch {
      // The process exited while we looked.
    }
  }
  const out = [postmaster];
  for (let i = 0; i < out.length; i++) for (const [pid, ppid] of parents) if (ppid === out[i]) out.push(pid);
  return out;
}

export interface Frozen {
  pids: number[];
  thaw(): void;
}

/** SIGSTOP the instance (postmaster first, so it cannot react to its children stopping). */
export function freezeInstance(postmaster: number): Frozen {
  const pids = instancePids(postmaster);
  for (const pid of pids) signal(pid, 'SIGSTOP');
  let thawed = false;
  return {
    pids,
    thaw() {
      if (thawed) return;
      thawed = true;
      for (const pid of pids) signal(pid, 'SIGCONT');
    },
  };
}

/** "T (stopped)" for a frozen process, per /proc/<pid>/stat. */
export function processState(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').charAt(0);
  } catch {
    return null;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone: nothing to freeze or thaw.
  }
}
