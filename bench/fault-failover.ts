// Failover under real faults, with SYNC_MODE=on and a write load (numbered autocommit INSERTs, the
// tests' WriteLoad) running through each: for each fault, `/cluster status` right after the fault,
// then the failover card (`/cluster failover`, the bot's pick: a synchronous replica), from Confirm
// to the first write a separate client gets committed on the new primary, the acknowledged rows
// missing on the new primary afterwards, and the samples in which an independent prober
// (pg_is_in_recovery() on every node, every ~50 ms, its own connections) saw two writable nodes, up
// to after the thaw (unpause, reconnect, SIGCONT, space freed). kill -9 of the primary is measured in
// the same run as the reference of every other fault.
// Faults: local — kill -9, SIGSTOP of the whole instance (postmaster and every child), the WAL disk
// full (pg_wal on its own tmpfs, filled, then writes until one fails); Docker — kill -9, `docker
// pause`, the container disconnected from its network while the engine still answers.
import type { NodeConfig } from '../src/config.js';
import type { DockerRuntime } from '../src/runtime/docker.js';
import type { LocalRuntime } from '../src/runtime/local.js';
import type { TestCluster } from '../test/helpers/cluster.js';
import { sh } from '../test/helpers/docker.js';
import { freeze, instancePids, thaw } from '../test/helpers/freeze.js';
import { WritableWatcher, WriteLoad } from '../test/helpers/load.js';
import { walOnTmpfs, type WalDisk } from '../test/helpers/wal-disk.js';
import { judge, round, stats, type Figure, type Scenario, type Stats } from './lib.js';
import { setSync, waitSyncActive } from './sync-loss.js';
import { benchCluster, clientFor, confirm, firstWrite, rejoin, runtime, settled, WRITES_TABLE, type BenchRuntime } from './support.js';

/** What a fault leaves to undo once the failover is done (thaw, unpause, reconnect, free space). */
type Heal = () => Promise<void>;

interface Fault {
  name: string;
  runtime: BenchRuntime;
  /** Once per cluster (e.g. every node's pg_wal onto its own tmpfs); returns the teardown. */
  prepare?: (c: TestCluster) => Promise<() => Promise<void>>;
  /** Make the fault on the primary; resolves once the fault holds. */
  inject: (c: TestCluster, node: NodeConfig) => Promise<Heal>;
}

interface Rep {
  statusMs: number;
  cardMs: number;
  confirmToWriteMs: number;
  splitSamples: number;
  /** Acknowledged INSERTs of the write load missing on the new primary (SYNC_MODE=on: must be 0). */
  lostRows: number;
  fence: string;
  /** The failover's own steps, `name=ms`, for the log. */
  steps: string;
}

type Measured = Exclude<keyof Rep, 'fence' | 'steps'>;

const nothing: Heal = async () => undefined;

const killNine: (rt: BenchRuntime) => Fault = (rt) => ({
  name: 'kill -9',
  runtime: rt,
  inject: async (c, node) => {
    await c.app.services.runtime.kill(node);
    return nothing;
  },
});

const FAULTS: Fault[] = [
  killNine('local'),
  {
    name: 'SIGSTOP of the whole instance',
    runtime: 'local',
    inject: async (c, node) => {
      const pids = instancePids((c.app.services.runtime as LocalRuntime).paths(node).data);
      freeze(pids);
      return async () => thaw(pids);
    },
  },
  walDiskFull(),
  killNine('docker'),
  {
    name: 'docker pause',
    runtime: 'docker',
    inject: async (c, node) => {
      const ctr = (await (c.app.services.runtime as DockerRuntime).container(node))!;
      await ctr.pause();
      // The fence kills or stops it; a container still paused afterwards is unpaused for the rejoin.
      return async () => void (await ctr.unpause().catch(() => undefined));
    },
  },
  {
    name: 'network disconnected',
    runtime: 'docker',
    inject: async (c, node) => {
      const rt = c.app.services.runtime as DockerRuntime;
      const ctr = (await rt.container(node))!;
      const info = await ctr.inspect();
      const aliases: string[] = info.NetworkSettings.Networks[rt.networkName]?.Aliases ?? [];
      await sh('docker', ['network', 'disconnect', rt.networkName, info.Id]);
      return async () => {
        const args = aliases.filter((a) => a !== info.Id.slice(0, 12)).flatMap((a) => ['--alias', a]);
        await sh('docker', ['network', 'connect', ...args, rt.networkName, info.Id]).catch(() => undefined);
      };
    },
  },
];

/** Every node's pg_wal on a tmpfs of its own (roles rotate); a repetition fills the primary's. */
function walDiskFull(): Fault {
  const disks = new Map<string, WalDisk>();
  return {
    name: 'WAL disk full',
    runtime: 'local',
    prepare: async (c) => {
      // Room for the WAL of five repetitions on every node (wal_keep_size keeps it); a fill takes all of it.
      for (const n of c.config.nodes) disks.set(n.name, await walOnTmpfs(c.app.services.runtime as LocalRuntime, n, 256));
      return async () => {
        for (const d of disks.values()) d.unmount();
        disks.clear();
      };
    },
    inject: async (c, node) => {
      const disk = disks.get(node.name)!;
      disk.fill();
      // Commits fail once the current WAL segment ends and no next one can be made.
      await c.sql(node.name, 'CREATE TABLE IF NOT EXISTS bench_filler (pad text)').catch(() => undefined);
      for (let i = 0; i < 100; i++) {
        const failed = await c.sql(node.name, "INSERT INTO bench_filler SELECT repeat('x', 2000) FROM generate_series(1, 2000)").then(
          () => false,
          () => true,
        );
        if (failed) return async () => disk.free();
      }
      disk.free();
      throw new Error(`writes on ${node.name} did not fail with its WAL disk full`);
    },
  };
}

/** The failover card the bot offers now (its own pick of target); throws when there is none. */
async function botCard(c: TestCluster): Promise<{ confirm: string; target: string }> {
  const card = await c.run('/cluster failover');
  const target = (card.data as { plan?: { target: string } } | undefined)?.plan?.target;
  if (card.failed || !card.buttons?.length || !target) throw new Error(`no failover card: ${card.title} ${card.text ?? ''}`);
  return { confirm: card.buttons[0].actionId, target };
}

async function oneRep(c: TestCluster, fault: Fault, watcher: WritableWatcher, base: number): Promise<Rep> {
  const s = c.app.services;
  const old = await settled(c, 120_000);
  await waitSyncActive(c, 60_000);
  const from = watcher.samples.length;
  const load = new WriteLoad(c.config, base).start();
  let heal: Heal = nothing;
  let target = '';
  try {
    await load.waitAcked(100);
    heal = await fault.inject(c, s.node(old));
    const ts = performance.now();
    const status = await c.run('/cluster status');
    const statusMs = performance.now() - ts;
    if (status.failed) throw new Error(`/cluster status failed: ${status.title}`);
    const t0 = performance.now();
    const card = await botCard(c);
    const cardMs = performance.now() - t0;
    target = card.target;
    const writer = await clientFor(c, s.node(target));
    try {
      const probe = firstWrite(writer, 180_000);
      const t1 = performance.now();
      const op = await confirm(c, card.confirm, `failover to ${target} (${fault.name})`).finally(() => probe.cancel());
      const wrote = await probe.done;
      await load.waitAcked(50); // the load found the new primary
      await load.stop();
      await heal();
      heal = nothing;
      await watcher.moreSamples(10); // after the thaw too
      const splitSamples = watcher.samples.slice(from).filter((x) => x.writable.length > 1).length;
      const rows = await c.sql<{ id: string }>(target, 'SELECT id FROM proyecto.carga WHERE id >= $1 AND id < $2', [base, base + 1_000_000]);
      const have = new Set(rows.map((r) => Number(r.id)));
      const lostRows = [...load.acked].filter((id) => !have.has(id)).length;
      return { statusMs, cardMs, confirmToWriteMs: wrote - t1, splitSamples, lostRows, fence: op.steps.find((x) => x.step.startsWith('fence '))?.detail ?? '', steps: op.steps.map((x) => `${x.step}=${x.ms}`).join(' ') };
    } finally {
      await writer.end().catch(() => undefined);
    }
  } finally {
    await load.stop();
    await heal();
    await rejoin(c, old);
  }
}

async function runFault(fault: Fault, reps: number, log: (l: string) => void): Promise<Rep[]> {
  const c = await benchCluster(3, { env: { SYNC_MODE: 'on', SYNC_DEGRADE_SECONDS: '60' } });
  const teardown = await fault.prepare?.(c).catch(async (e: unknown) => {
    await c.destroy();
    throw e;
  });
  const watcher = new WritableWatcher(c.config).start();
  try {
    await c.sql('n1', WRITES_TABLE);
    await c.sql('n1', 'CREATE TABLE proyecto.carga (id bigint PRIMARY KEY, nodo text NOT NULL, at timestamptz NOT NULL DEFAULT now())');
    await setSync(c, 'on');
    const out: Rep[] = [];
    for (let i = 0; i < reps; i++) {
      const r = await oneRep(c, fault, watcher, (i + 1) * 1_000_000);
      out.push(r);
      log(`  ${fault.name} #${i + 1}: status ${round(r.statusMs)} ms, card ${round(r.cardMs)} ms, confirm → write ${round(r.confirmToWriteMs)} ms, split-brain samples ${r.splitSamples}, acknowledged rows lost ${r.lostRows}; steps ${r.steps}; ${r.fence}`);
    }
    return out;
  } finally {
    await watcher.stop();
    await c.destroy();
    await teardown?.();
  }
}

/** A fault's three figures; kill -9's own rows carry themselves as reference (they are the others'). */
function figures(fault: Fault, reps: Rep[], ref: Rep[], error?: string): Figure[] {
  const kill = fault.name === 'kill -9';
  const of = (rs: Rep[], k: Measured): Stats => stats(rs.map((r) => r[k]));
  const refLabel = (what: string) => (kill ? 'itself: the reference of the other faults' : `kill -9, same run: ${what}`);
  const row = (figure: string, unit: string, k: Measured, goal: Figure['goal'], note?: string) => {
    const st = of(reps, k);
    const rs = of(ref, k);
    return judge({
      scenario: 'fault-failover',
      figure: `${fault.name}: ${figure}`,
      unit,
      runtime: fault.runtime,
      stats: st,
      reference: { label: refLabel(figure), stats: rs },
      ratio: rs.median > 0 ? round(st.median / rs.median) : null,
      goal,
      note: error ? `not measured: ${error}` : note,
    });
  };
  return [
    row('/cluster status answered', 'ms', 'statusMs', { on: 'max', op: '<=', value: 2000 }),
    row('failover card answered', 'ms', 'cardMs', { on: 'max', op: '<=', value: 2000 }),
    row('Confirm → first write on the new primary', 'ms', 'confirmToWriteMs', { on: 'max', op: '<=', value: 1000 }, `fence step: ${reps[0]?.fence ?? '?'}`),
    row('samples with two writable nodes, up to after the thaw', 'samples', 'splitSamples', { on: 'max', op: '<=', value: 0 }),
    row('acknowledged rows lost, SYNC_MODE=on under write load', 'rows', 'lostRows', { on: 'max', op: '<=', value: 0 }),
  ];
}

export const faultFailover: Scenario = async ({ quick, log }) => {
  const reps = quick ? 1 : 5;
  const out: Figure[] = [];
  const mine = FAULTS.filter((f) => f.runtime === runtime());
  log(`${mine.map((f) => f.name).join(', ')}: a 3-node cluster each, ${reps} repetitions`);
  let ref: Rep[] = [];
  for (const fault of mine) {
    const kill = fault.name === 'kill -9';
    let r: Rep[];
    try {
      r = await runFault(fault, reps, log);
    } catch (e) {
      // One fault that cannot be run must not hide the others' figures: its rows say why (MISSED).
      log(`  ${fault.name} failed: ${(e as Error).message}`);
      if (kill) throw e;
      out.push(...figures(fault, [], ref, (e as Error).message.split('\n')[0]));
      continue;
    }
    if (kill) ref = r;
    out.push(...figures(fault, r, kill ? r : ref));
  }
  return out;
};
