// Keeps the benchmark harness from rotting: its statistics, its verdicts and one tiny real run.
// (Speed is never asserted here; only that the harness measures and reports.)
import { describe, expect, it } from 'vitest';
import { judge, markdownTable, stats } from '../../bench/lib.js';
import { statusLatency } from '../../bench/status-latency.js';

describe('benchmark harness', () => {
  it('computes min/median/max/p99', () => {
    expect(stats([5, 1, 3, 2, 4])).toMatchObject({ repetitions: 5, min: 1, median: 3, max: 5, p99: 5 });
    expect(stats([1, 2, 3, 4])).toMatchObject({ median: 2.5 });
  });

  it('shows a missed goal as missed', () => {
    const base = { scenario: 's', figure: 'f', unit: 'ms', runtime: 'local' as const, reference: null, ratio: 2 };
    const missed = judge({ ...base, stats: stats([300]), goal: { on: 'median', op: '<=', value: 200 } });
    const met = judge({ ...base, stats: stats([100]), goal: { on: 'median', op: '<=', value: 200 } });
    expect(missed.pass).toBe(false);
    expect(met.pass).toBe(true);
    expect(markdownTable([missed, met])).toMatch(/\*\*MISSED\*\*[\s\S]*pass/);
  });

  it('runs the status-latency scenario on a real cluster (quick mode)', async () => {
    const figures = await statusLatency({ quick: true, log: () => undefined });
    expect(figures).toHaveLength(1);
    expect(figures[0].stats.repetitions).toBe(5);
    expect(figures[0].reference?.stats.median).toBeGreaterThan(0);
    expect(typeof figures[0].pass).toBe('boolean');
  });
});
