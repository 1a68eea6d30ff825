// The benchmark harness: every figure is measured beside a reference taken in the same run,
// with min/median/max over repetitions, a goal, and pass/fail — a missed goal is shown as missed.
import { cpus, totalmem } from 'node:os';

export interface Stats {
  repetitions: number;
  min: number;
  median: number;
  max: number;
  p99?: number;
}

export interface Goal {
  /** The figure compared with the goal: median (default), max, p99 or ratio. */
  on: 'median' | 'max' | 'p99' | 'ratio';
  op: '<=' | '>=' | '<';
  value: number;
}

export interface Figure {
  scenario: string;
  figure: string;
  unit: string;
  runtime: 'local' | 'docker' | 'patroni';
  stats: Stats;
  reference: { label: string; stats: Stats } | null;
  /** figure median / reference median (or as defined by the scenario). */
  ratio: number | null;
  goal: Goal | null;
  pass: boolean | null;
  note?: string;
  /** Parts of the figure, for the record (e.g. the failover's own step durations): no goal of their own. */
  breakdown?: Array<{ part: string; unit: string; stats: Stats }>;
}

export function stats(values: number[]): Stats {
  if (values.length === 0) return { repetitions: 0, min: NaN, median: NaN, max: NaN };
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  const mid = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { repetitions: s.length, min: round(s[0]), median: round(mid), max: round(s[s.length - 1]), p99: round(at(0.99)) };
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export function judge(f: Omit<Figure, 'pass'>): Figure {
  if (!f.goal) return { ...f, pass: null };
  const v = f.goal.on === 'ratio' ? f.ratio : f.stats[f.goal.on];
  if (v === null || v === undefined || Number.isNaN(v)) return { ...f, pass: false };
  const pass = f.goal.op === '<=' ? v <= f.goal.value : f.goal.op === '<' ? v < f.goal.value : v >= f.goal.value;
  return { ...f, pass };
}

export function machine() {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: round(totalmem() / 2 ** 30, 1), node: process.version, platform: process.platform };
}

export function markdownTable(figures: Figure[]): string {
  const fmt = (n: number | undefined | null) => (n === null || n === undefined || Number.isNaN(n) ? '–' : String(n));
  const goal = (g: Goal | null) => (g ? `${g.on} ${g.op} ${g.value}` : '–');
  const rows = figures.map((f) =>
    [
      f.scenario,
      `${f.figure} (${f.unit})`,
      f.runtime,
      `${fmt(f.stats.min)} / ${fmt(f.stats.median)} / ${fmt(f.stats.max)}${f.stats.p99 !== undefined && f.goal?.on === 'p99' ? ` (p99 ${fmt(f.stats.p99)})` : ''}`,
      String(f.stats.repetitions),
      f.reference ? `${f.reference.label}: ${fmt(f.reference.stats.median)}` : '–',
      fmt(f.ratio),
      goal(f.goal),
      f.pass === null ? '–' : f.pass ? 'pass' : '**MISSED**',
    ].join(' | '),
  );
  return [
    '| scenario | figure | runtime | min / median / max | reps | reference (median) | ratio | goal | result |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}

/** One line per figure with a breakdown, for under the table. */
export function breakdownLines(figures: Figure[]): string[] {
  return figures
    .filter((f) => f.breakdown?.length)
    .map((f) => `- ${f.scenario}${f.runtime === 'local' ? '' : ` (${f.runtime})`}, ${f.figure} — parts (median, min–max): ${f.breakdown!.map((b) => `${b.part} ${b.stats.median} ${b.unit} (${b.stats.min}–${b.stats.max})`).join('; ')}`);
}

export async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

export type Scenario = (opts: { quick: boolean; log: (line: string) => void }) => Promise<Figure[]>;
