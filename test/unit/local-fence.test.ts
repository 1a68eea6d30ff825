// Which processes the local fence counts as "the instance", on real processes (no PostgreSQL
// needed): the postmaster's tree, any process working in the data directory or holding a file
// open there; never the tree of a recycled pid that a stale postmaster.pid names; and SIGKILL
// reaches stopped processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { instanceProcesses, killInstance, processGone } from '../../src/runtime/local-fence.js';
import { eventually } from '../helpers/wait.js';

const started: ChildProcess[] = [];
const dirs: string[] = [];

function run(cmd: string, args: string[], cwd: string): ChildProcess {
  const p = spawn(cmd, args, { cwd, stdio: 'ignore' });
  started.push(p);
  return p;
}

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'clusterbot-fence-'));
  dirs.push(d);
  return d;
}

/** The pids of the children of `pid`, once it has forked `n` of them. */
async function children(pid: number, n: number): Promise<number[]> {
  const { readdirSync, readFileSync } = await import('node:fs');
  const kids = () =>
    readdirSync('/proc')
      .filter((x) => /^\d+$/.test(x))
      .map(Number)
      .filter((p) => {
        try {
          const s = readFileSync(`/proc/${p}/stat`, 'utf8');
          return s.slice(s.lastIndexOf(')') + 2).split(' ')[1] === String(pid);
        } catch {
          return false;
        }
      });
  return eventually(`${n} children of ${pid}`, kids, (k) => k.length >= n, { timeoutMs: 10_000 });
}

afterEach(() => {
  for (const p of started.splice(0)) p.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the processes of a local instance', () => {
  it('finds the tree of a postmaster working in the data directory, a stray process working there, and one holding a file open there', async () => {
    const data = dir();
    const elsewhere = dir();
    writeFileSync(join(data, 'held'), '');
    // The "postmaster": works in the data directory, with two children that moved elsewhere.
    const pm = run('sh', ['-c', `(cd ${elsewhere} && sleep 600) & (cd ${elsewhere} && sleep 600) & wait`], data);
    const kids = await children(pm.pid!, 2);
    const stray = run('sleep', ['600'], data);
    const holder = run('sh', ['-c', `exec 3<${join(data, 'held')}; sleep 600`], elsewhere);
    const unrelated = run('sleep', ['600'], elsewhere);

    const quick = instanceProcesses(data, { postmaster: pm.pid!, files: false });
    expect(quick.sort()).toEqual([pm.pid!, ...kids, stray.pid!].sort());
    // The holder opens its file once its shell runs: wait for that, not for a fixed time.
    const full = await eventually('the full look to see the file holder', () => instanceProcesses(data, { postmaster: null, files: true }), (f) => f.includes(holder.pid!));
    expect(full).toEqual(expect.arrayContaining([pm.pid!, stray.pid!, holder.pid!]));
    expect(full).not.toContain(unrelated.pid!);
    expect(full).not.toEqual(expect.arrayContaining(kids));
  });

  it('a stale postmaster.pid naming a recycled pid (working elsewhere) never brings in that process or its tree', async () => {
    const data = dir();
    const other = run('sh', ['-c', 'sleep 600 & wait'], dir());
    await children(other.pid!, 1);
    expect(instanceProcesses(data, { postmaster: other.pid!, files: true })).toEqual([]);
  });

  it('SIGKILL of a stopped (SIGSTOP) instance: every process dies, the last look finds none', async () => {
    const data = dir();
    const pm = run('sh', ['-c', 'sleep 600 & sleep 600 & wait'], data);
    const kids = await children(pm.pid!, 2);
    for (const p of [pm.pid!, ...kids]) process.kill(p, 'SIGSTOP');
    const r = await killInstance(data, pm.pid!);
    expect(r).toEqual({ killed: 3, left: [] });
    expect([pm.pid!, ...kids].filter((p) => !processGone(p))).toEqual([]);
  });
});
