// Scenario 5: /cluster status latency p50/p99 with 3, 10 and 20 nodes (on Docker: 3 nodes only).
// Reference: one bare `SELECT 1` to every node in parallel over the same pools (the floor).
import { judge, round, stats, time, type Figure, type Scenario } from './lib.js';
import { benchCluster, runtime } from './support.js';

const principal = { id: 'tester', display: 'tester', platform: 'shell' as const };

export const statusLatency: Scenario = async ({ quick, log }) => {
  const sizes = quick || runtime() === 'docker' ? [3] : [3, 10, 20];
  const iterations = quick ? 5 : 200;
  const figures: Figure[] = [];
  let p99At3 = NaN;
  for (const n of sizes) {
    log(`status latency: starting ${n} nodes`);
    const c = await benchCluster(n, {
      nodes: (ports) => ports.map((p, i) => (i === 0 ? `primary:${p}` : `replica${i}:${p}`)).join(','),
    });
    try {
      const router = c.app.router;
      for (let i = 0; i < 5; i++) await router.handle('/cluster status', principal, { platform: 'shell', channel: 'bench' });
      const samples: number[] = [];
      const refs: number[] = [];
      for (let i = 0; i < iterations; i++) {
        const s = await time(() => router.handle('/cluster status', principal, { platform: 'shell', channel: 'bench' }));
        samples.push(s.ms);
        const r = await time(() => Promise.all(c.config.nodes.map((node) => c.app.services.pools.query(node, 'SELECT 1'))));
        refs.push(r.ms);
      }
      const st = stats(samples);
      const ref = stats(refs);
      if (n === 3) p99At3 = st.p99!;
      figures.push(
        judge({
          scenario: 'status-latency',
          figure: `/cluster status p99, ${n} nodes`,
          unit: 'ms',
          runtime: runtime(),
          stats: st,
          reference: { label: 'SELECT 1 on every node', stats: ref },
          ratio: round(st.median / ref.median),
          goal: n === 3 ? { on: 'p99', op: '<', value: 200 } : null,
          note: `p50 ${st.median} ms, p99 ${st.p99} ms`,
        }),
      );
      if (n > 3 && !Number.isNaN(p99At3)) {
        // Sublinear: going from 3 to n nodes must multiply p99 by less than n/3.
        const growth = round(st.p99! / p99At3);
        figures.push(
          judge({
            scenario: 'status-latency',
            figure: `p99 growth 3 → ${n} nodes`,
            unit: 'x',
            runtime: runtime(),
            stats: { repetitions: 1, min: growth, median: growth, max: growth },
            reference: { label: `linear growth (${n}/3)`, stats: { repetitions: 1, min: round(n / 3), median: round(n / 3), max: round(n / 3) } },
            ratio: round(growth / (n / 3)),
            goal: { on: 'ratio', op: '<', value: 1 },
          }),
        );
      }
    } finally {
      await c.destroy();
    }
  }
  return figures;
};
