// The processes of one local PostgreSQL instance, found through /proc, and their SIGKILL. Fencing
// must not trust the postmaster alone: a frozen (SIGSTOPped) child keeps the shared memory and the
// data directory after its postmaster died, so every process of the instance is found and killed,
// and then it is proven that none is left.
import { readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';

interface ProcStat {
  ppid: number;
  state: string;
}

function procStat(pid: number): ProcStat | null {
  try {
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0], ppid: Number(rest[1]) };
  } catch {
    return null;
  }
}

/** Gone, or a zombie (it holds no files, memory or port; only its exit status, until reaped). */
export function processGone(pid: number): boolean {
  const st = procStat(pid);
  return st === null || st.state === 'Z' || st.state === 'X';
}

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/** Where a /proc link points; a directory or file deleted meanwhile (a lost data disk) still counts. */
function link(path: string): string | null {
  try {
    return readlinkSync(path).replace(/ \(deleted\)$/, '');
  } catch {
    return null;
  }
}

/** Does the process work in `dir`, or (when `files`) hold a file open there? */
function onDir(pid: number, dir: string, files: boolean): boolean {
  const cwd = link(`/proc/${pid}/cwd`);
  if (cwd !== null && under(cwd, dir)) return true;
  if (!files) return false;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    const target = link(`/proc/${pid}/fd/${fd}`);
    return target !== null && under(target, dir);
  });
}

function ownerOf(path: string): number | null {
  try {
    return statSync(path).uid;
  } catch {
    return null;
  }
}

function resolved(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/** What instanceProcesses reads of each process. */
export interface Look {
  /** The postmaster's process tree (ppid links), when its pid is known. */
  postmaster: number | null;
  /** Also open files, not only the working directory (slower: every descriptor is read). */
  files: boolean;
}

/**
 * Every live process of the instance whose data directory is `dataDir`: the postmaster's process
 * tree (only when the postmaster itself works in that directory: a stale postmaster.pid may name a
 * recycled pid), and any other process whose working directory (and, with `files`, open files) is
 * on the data directory. Never this process itself; never a zombie (it has neither).
 */
export function instanceProcesses(dataDir: string, look: Look): number[] {
  const dir = resolved(dataDir);
  // The data directory is private (0700): only its owner's processes can hold files open in it
  // (and root's, which runs no PostgreSQL), so open files are read for those alone; cwd for all.
  const owner = look.files ? ownerOf(dir) : null;
  const readFiles = (pid: number) => look.files && (owner === null || ownerOf(`/proc/${pid}`) === owner);
  const pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
  const found = new Set<number>();
  const { postmaster } = look;
  if (postmaster !== null && !processGone(postmaster) && onDir(postmaster, dir, false)) {
    const parent = new Map<number, number>();
    for (const pid of pids) {
      const st = procStat(pid);
      if (st && st.state !== 'Z' && st.state !== 'X') parent.set(pid, st.ppid);
    }
    found.add(postmaster);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, ppid] of parent) {
        if (!found.has(pid) && found.has(ppid)) {
          found.add(pid);
          grew = true;
        }
      }
    }
  }
  for (const pid of pids) if (!found.has(pid) && onDir(pid, dir, readFiles(pid))) found.add(pid);
  found.delete(process.pid);
  return [...found];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls (every 5 ms) until every pid is gone or a zombie; false when `ms` passed first. */
export async function untilGone(pids: number[], ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (pids.every(processGone)) return true;
    if (performance.now() > deadline) return false;
    await sleep(5);
  }
}

/** What killInstance did: how many processes it killed, and what its last look found still running. */
export interface Killed {
  killed: number;
  left: number[];
}

/**
 * SIGKILL every process of the instance (the postmaster first, so it forks no more), looking again
 * after each round, until a look finds none or `rounds` are spent; the last look is the proof. A
 * stopped process dies to SIGKILL too.
 */
export async function killInstance(dataDir: string, postmaster: number | null, rounds = 3): Promise<Killed> {
  const killed = new Set<number>();
  // The first look is quick (the tree and working directories); every later one, the proof, also reads open files.
  let pids = instanceProcesses(dataDir, { postmaster, files: false });
  for (let i = 0; i < rounds && pids.length > 0; i++) {
    pids.sort((a, b) => (a === postmaster ? -1 : b === postmaster ? 1 : 0));
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.add(pid);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw new Error(`cannot SIGKILL process ${pid} of ${dataDir}: ${(e as Error).message}`);
      }
    }
    await untilGone(pids, 2000);
    pids = instanceProcesses(dataDir, { postmaster: null, files: true });
  }
  return { killed: killed.size, left: pids };
}

/** The kernel's state of the process is "stopped" (SIGSTOP) or "traced": it answers nothing. */
export function processStopped(pid: number): boolean {
  const st = procStat(pid);
  return st !== null && (st.state === 'T' || st.state === 't');
}
