// Scenario: what synchronous replication costs per commit — pgbench TPS with SYNC_MODE on divided by
// TPS with it off, on the same 2-node loopback cluster, runs alternated (goal: ratio ≥ 0.5).
// Deliberately small (4 clients, a few seconds per run): the machine is shared.
import { runProgram } from '../src/runtime/process.js';
import { findPgBin } from '../src/runtime/pg-binaries.js';
import type { TestCluster } from '../test/helpers/cluster.js';
import { judge, round, stats, type Scenario } from './lib.js';
import { benchCluster, runtime, settled } from './support.js';
import { setSync } from './sync-loss.js';

async function pgbench(c: TestCluster, bin: string, args: string[]): Promise<string> {
  const primary = c.app.services.node(await settled(c));
  const r = await runProgram(`${bin}/pgbench`, ['-h', primary.host, '-p', String(primary.port), '-U', c.config.POSTGRES_ADMIN_USER, ...args, c.config.PG_DATABASE], {
    env: { PGPASSWORD: c.config.POSTGRES_ADMIN_PASSWORD },
    timeoutMs: 120_000,
  });
  if (r.code !== 0) throw new Error(`pgbench ${args.join(' ')} failed: ${r.stderr.trim().split('\n').at(-1)}`);
  return r.stdout;
}

const tpsOf = (out: string) => {
  const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(out) ?? /tps = ([\d.]+)/.exec(out);
  if (!m) throw new Error(`no tps in pgbench output: ${out.slice(-200)}`);
  return Number(m[1]);
};

export const syncCost: Scenario = async ({ quick, log }) => {
  const reps = quick ? 1 : 3;
  const seconds = quick ? 2 : 5;
  const bin = findPgBin(process.env.PG_BIN);
  if (!bin) throw new Error('PostgreSQL binaries (pgbench) not found');
  const c = await benchCluster(2, { env: { SYNC_DEGRADE_SECONDS: '60' } });
  try {
    await pgbench(c, bin, ['-i', '-s', '1', '-q']);
    const on: number[] = [];
    const off: number[] = [];
    for (let i = 0; i < reps; i++) {
      for (const mode of ['off', 'on'] as const) {
        await setSync(c, mode);
        const tps = tpsOf(await pgbench(c, bin, ['-c', '4', '-j', '2', '-T', String(seconds), '-n']));
        (mode === 'on' ? on : off).push(tps);
        log(`  #${i + 1} sync ${mode}: ${round(tps, 0)} tps`);
      }
    }
    const a = stats(on);
    const b = stats(off);
    return [
      judge({
        scenario: 'sync-cost',
        figure: 'pgbench TPS with SYNC_MODE=on',
        unit: 'tps',
        runtime: runtime(),
        stats: a,
        reference: { label: 'pgbench TPS async (same run, alternated)', stats: b },
        ratio: round(a.median / b.median),
        goal: { on: 'ratio', op: '>=', value: 0.5 },
        note: `pgbench -c 4 -j 2 -T ${seconds} -n, scale 1, 2-node loopback cluster; ratio = sync median / async median`,
      }),
    ];
  } finally {
    await c.destroy();
  }
};
