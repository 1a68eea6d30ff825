// Keeps the benchmark harness from rotting: its statistics, its verdicts and one tiny real run.
// (Speed is never asserted here; only that the harness measures and reports.)
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { crashAlert } from '../../bench/crash-alert.js';
import { breakdownLines, judge, markdownTable, stats, type Figure } from '../../bench/lib.js';
import { scenarios } from '../../bench/scenarios.js';
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

  it('registers one scenario per figure of SPEC section 10', () => {
    expect(Object.keys(scenarios)).toEqual([
      'crash-alert', 'confirm-writable', 'promotion-streaming', 'failover-catchup', 'loss-under-load', 'status-latency', 'backup-throughput', 'idle-footprint',
      'sync-loss', 'sync-cost', 'endpoint-switchover', 'fault-failover', 'backup-engine',
    ]);
  });

  it('lists a figure\'s parts under the table', () => {
    const f = judge({ scenario: 's', figure: 'f', unit: 'ms', runtime: 'local', stats: stats([1]), reference: null, ratio: null, goal: null, breakdown: [{ part: 'step promote', unit: 'ms', stats: stats([200, 300, 250]) }] });
    expect(breakdownLines([f])).toEqual(['- s, f — parts (median, min–max): step promote 250 ms (200–300)']);
  });

  it('the committed results carry a reference beside every figure, and verdicts that match their goals', () => {
    const file = new URL('../../bench/results/latest.json', import.meta.url);
    expect(existsSync(file), 'bench/results/latest.json is committed (npm run bench writes it)').toBe(true);
    const run = JSON.parse(readFileSync(file, 'utf8')) as { quick: boolean; figures: Figure[] };
    expect(run.quick).toBe(false);
    // A branch commits its new scenario's figures as bench/results/partial-<branch>.json until the lead merges them into latest.
    const dir = new URL('../../bench/results/', import.meta.url);
    const partials = readdirSync(dir)
      .filter((f) => /^partial-.+\.json$/.test(f))
      .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as { quick: boolean; figures: Figure[] });
    for (const p of partials) expect(p.quick).toBe(false);
    const figures = [...run.figures, ...partials.flatMap((p) => p.figures)];
    expect(new Set(figures.map((f) => f.scenario))).toEqual(new Set(Object.keys(scenarios)));
    for (const f of figures) {
      expect(f.reference, `${f.scenario}: ${f.figure}`).not.toBeNull();
      expect(f.pass, `${f.scenario}: ${f.figure}`).toBe(judge({ ...f, pass: undefined } as never).pass);
    }
  });

  it('the committed results have Docker figures, or say why they were not run, for every Docker scenario', () => {
    const run = JSON.parse(readFileSync(new URL('../../bench/results/latest.json', import.meta.url), 'utf8')) as { figures: Figure[]; notRun?: Array<{ scenario: string; runtime: string; error: string }> };
    for (const scenario of ['crash-alert', 'confirm-writable', 'promotion-streaming', 'status-latency']) {
      const measured = run.figures.some((f) => f.scenario === scenario && f.runtime === 'docker');
      const why = run.notRun?.find((n) => n.scenario === scenario && n.runtime === 'docker')?.error;
      expect(measured || Boolean(why), `${scenario} on docker`).toBe(true);
    }
  });

  it('runs the crash → alert scenario on a real cluster (quick mode: one kill)', async () => {
    const [f] = await crashAlert({ quick: true, log: () => undefined });
    expect(f.stats.repetitions).toBe(1);
    expect(f.stats.median).toBeGreaterThan(0);
    expect(f.reference?.stats.median).toBeGreaterThan(0);
    expect(f.goal).toEqual({ on: 'median', op: '<=', value: 2000 });
    expect(typeof f.pass).toBe('boolean');
  });
});
