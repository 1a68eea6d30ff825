// A primary that is alive but answers nothing: the whole local instance (postmaster and every child)
// frozen with SIGSTOP under a write load. The confirmed failover must fence it by killing every
// process of it at once (a clean stop of a frozen instance waits forever), promote the standby, and
// after the thaw (SIGCONT) nothing of the old instance may run. An independent watcher samples every
// node for pg_is_in_recovery() = false all along, also after the thaw. With SYNC_MODE=on the same
// fault loses no acknowledged row.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';
import { startMonitoring } from '../../src/monitor/index.js';
import type { LocalRuntime } from '../../src/runtime/local.js';
import { portFree } from '../../src/runtime/process.js';
import { principal, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { freeze, instancePids, stillRunning, thaw } from '../helpers/freeze.js';
import { WritableWatcher, WriteLoad } from '../helpers/load.js';
import { eventually } from '../helpers/wait.js';

interface Step {
  step: string;
  ms: number;
  ok: boolean;
  detail: string;
}

// Frozen: seen stopped by the runtime, or no answer to the probe; either way killed, not stopped.
const FENCED_BY_KILL = /^primary (is frozen \(its postmaster \d+ is stopped \(SIGSTOP\)\)|did not answer in \d+ ms) → SIGKILL of \d+ processes \(\d+ ms\), nothing left on its data directory or port \d+, fenced/;
const field = (r: Reply, label: string) => r.fields?.find((f) => f.label === label)?.value ?? '';
const stepsOf = (r: Reply) => (r.data as { steps?: Step[] } | undefined)?.steps ?? [];

async function createLoadTable(c: TestCluster): Promise<void> {
  await c.sql('primary', 'CREATE TABLE proyecto.carga (id bigint PRIMARY KEY, nodo text NOT NULL, at timestamptz NOT NULL DEFAULT now())');
}

/** `/cluster failover <target>` confirmed (the old primary already frozen): the fence step's line. */
async function failOver(c: TestCluster, old: string, target: string): Promise<string> {
  const card = await c.run(`/cluster failover ${target}`);
  expect(card.failed, card.text).toBeFalsy();
  expect(card.buttons?.map((b) => b.label)).toEqual([`Promote ${target}`, 'Cancel']);
  const done = await c.press(card.buttons![0].actionId, principal('alice'));
  const steps = stepsOf(done);
  expect(done.failed, `${done.title}\n${done.text}\n${JSON.stringify(steps, null, 1)}`).toBeFalsy();
  expect(done.title).toMatch(new RegExp(`^Failover (done|done with warnings) — ${target} is the primary`));
  expect(done.text).toMatch(new RegExp(`${old} is fenced: it can only start read-only — /cluster rejoin ${old}`));
  const fence = steps.find((s) => s.step === `fence ${old}`)?.detail ?? '';
  console.info(`[frozen ${old}] ${steps.map((s) => `${s.step}=${s.ms}ms`).join(', ')}\n  fence: ${fence}`);
  return fence;
}

/** After the thaw: none of the frozen processes runs again, and nothing listens on the old port. */
async function nothingOfTheOldInstance(c: TestCluster, old: string, pids: number[]): Promise<void> {
  await eventually('no process of the frozen instance running after SIGCONT', () => stillRunning(pids), (left) => left.length === 0, { timeoutMs: 10_000 });
  const node = c.app.services.node(old);
  expect(await portFree(node.host, node.port), `something listens on ${old}'s port ${node.port}`).toBe(true);
}

const dataDir = (c: TestCluster, name: string) => (c.app.services.runtime as LocalRuntime).paths(c.app.services.node(name)).data;

describe('a frozen primary instance (SIGSTOP of the postmaster and all its children)', () => {
  let c: TestCluster;
  let watcher: WritableWatcher;

  beforeAll(async () => {
    c = await startTestCluster();
    await createLoadTable(c);
    watcher = new WritableWatcher(c.config).start();
  });
  afterAll(async () => {
    await watcher?.stop();
    await c?.destroy();
  });

  it('under write load: failover confirmed → the standby takes writes; the card names the kill; after SIGCONT nothing of it runs; never two writable', async () => {
    const load = new WriteLoad(c.config, 1).start();
    const pids = instancePids(dataDir(c, 'primary'));
    expect(pids.length, 'a postmaster with its children').toBeGreaterThan(3);
    // A process that is not the postmaster's child but works in its data directory (as an orphaned
    // archive_command would): it is part of the instance too, and frozen with it.
    const stray = spawn('sleep', ['600'], { cwd: dataDir(c, 'primary'), detached: true, stdio: 'ignore' });
    stray.unref();
    pids.push(stray.pid!);
    try {
      await load.waitAcked(100);
      freeze(pids);
      expect(await failOver(c, 'primary', 'standby')).toMatch(FENCED_BY_KILL);
      // Before any thaw: the fence killed every frozen process, the stray one included.
      expect(stillRunning(pids), 'frozen processes still there after the fence').toEqual([]);
      const acked = load.acked.size;
      await load.waitAcked(50); // the load found the new primary
      const onStandby = await c.sql<{ n: number }>('standby', "SELECT count(*)::int AS n FROM proyecto.carga WHERE nodo = 'standby'");
      expect(onStandby[0].n, `acked before: ${acked}`).toBeGreaterThan(0);
    } finally {
      thaw(pids);
      stray.kill('SIGKILL');
      await load.stop();
    }
    await nothingOfTheOldInstance(c, 'primary', pids);
    // Keep sampling after the thaw: the old primary must not come back writable.
    await watcher.moreSamples(40);
    expect(watcher.splitBrain, 'samples with two writable nodes').toEqual([]);
    expect(watcher.samples.at(-1)?.writable).toEqual(['standby']);
    const status = (await c.run('/cluster status')).data as { writable: string[]; nodes: Array<{ name: string; up: boolean; fenced: boolean }> };
    expect(status.writable).toEqual(['standby']);
    expect(status.nodes.find((n) => n.name === 'primary')).toMatchObject({ up: false, fenced: true });
  });

  it('only the children frozen (the postmaster still forks): bounded clean stop or none, then every process killed; nothing runs after SIGCONT', async () => {
    const rejoin = await c.run('/cluster rejoin primary', principal('olga'));
    expect(rejoin.failed, `${rejoin.title}\n${rejoin.text}`).toBeFalsy();
    await eventually('primary streaming from standby', async () => ((await c.run('/cluster status')).data as { nodes: Array<{ name: string; streaming: boolean; upstream: string | null }> }).nodes.find((n) => n.name === 'primary'), (n) => Boolean(n?.streaming && n.upstream === 'standby'), { timeoutMs: 60_000 });
    const load = new WriteLoad(c.config, 1_000_000).start();
    const [postmaster, ...children] = instancePids(dataDir(c, 'standby'));
    try {
      await load.waitAcked(100);
      freeze(children);
      // A frozen child never lets a fast shutdown finish: the stop, if tried, is cut at FENCE_STOP_MS.
      expect(await failOver(c, 'standby', 'primary')).toMatch(
        /^standby (answered in \d+ ms → fast stop \(no exit within 1000 ms\) \(\d+ ms\)|did not answer in \d+ ms) → SIGKILL of \d+ processes \(\d+ ms\), nothing left on its data directory or port \d+, fenced/,
      );
      await load.waitAcked(50);
    } finally {
      thaw(children);
      await load.stop();
    }
    await nothingOfTheOldInstance(c, 'standby', [postmaster, ...children]);
    await watcher.moreSamples(20);
    expect(watcher.splitBrain, 'samples with two writable nodes').toEqual([]);
    expect(watcher.samples.at(-1)?.writable).toEqual(['primary']);
  });
});

describe('SYNC_MODE=on: a frozen primary instance fails over with no acknowledged row lost', () => {
  let c: TestCluster;
  let watcher: WritableWatcher;

  beforeAll(async () => {
    c = await startTestCluster({ env: { SYNC_MODE: 'on', SYNC_DEGRADE_SECONDS: '30', HEALTH_REPORT_CRON: 'off' } });
    await createLoadTable(c);
    // The monitor's sync guard applies SYNC_MODE=on; the test waits for status to show it.
    await startMonitoring(c.app);
    watcher = new WritableWatcher(c.config).start();
  });
  afterAll(async () => {
    await watcher?.stop();
    await c?.destroy();
  });

  it('every insert acknowledged before and during the freeze is on the new primary; the fence was a kill', async () => {
    await eventually('standby synchronous', async () => field(await c.run('/cluster status'), 'Sync replication'), (v) => /^on — standby synchronous/.test(v), { timeoutMs: 30_000 });
    const load = new WriteLoad(c.config, 1).start();
    const pids = instancePids(dataDir(c, 'primary'));
    let acked: number[] = [];
    try {
      await load.waitAcked(200);
      freeze(pids);
      expect(await failOver(c, 'primary', 'standby')).toMatch(FENCED_BY_KILL);
      await load.waitAcked(50);
    } finally {
      thaw(pids);
      await load.stop();
      acked = [...load.acked];
    }
    const found = await c.sql<{ n: number }>('standby', 'SELECT count(*)::int AS n FROM proyecto.carga WHERE id = ANY($1::bigint[])', [acked]);
    console.log(`[frozen sync] ${acked.length} acked inserts, ${found[0].n} on standby, ${load.inDoubt.size} in doubt`);
    expect(found[0].n, 'acknowledged rows missing on the new primary').toBe(acked.length);
    await nothingOfTheOldInstance(c, 'primary', pids);
    await watcher.moreSamples(20);
    expect(watcher.splitBrain, 'samples with two writable nodes').toEqual([]);
  });
});
