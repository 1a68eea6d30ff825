// npm run bench [-- <scenario> …] [local|docker] [--quick] [--append]: runs the scenarios on each
// runtime (default: local, and docker when an engine answers; or BENCH_RUNTIMES=local,docker) and
// writes bench/results/latest.json and latest.md (the table docs/performance.md embeds: npm run docs copies it in). A run of some
// scenarios or runtimes writes partial.json/partial.md instead, unless --append merges its figures
// into latest.* (replacing those of the same scenario and runtime); --quick writes nothing.
// npm run bench -- --merge FILE…: merges the figures of earlier partial runs (their partial.json, kept
// under another name) into latest.* the same way, without running anything.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { requireDocker } from '../test/helpers/docker.js';
import { breakdownLines, machine, markdownTable, type Figure } from './lib.js';
import { scenarios } from './scenarios.js';
import { useRuntime, type BenchRuntime } from './support.js';

const RUNTIMES: BenchRuntime[] = ['local', 'docker'];
/** What is measured on Docker too (status-latency with 3 nodes only; fault-failover with Docker's own faults). */
const DOCKER_SCENARIOS = ['crash-alert', 'confirm-writable', 'promotion-streaming', 'status-latency', 'fault-failover'];

interface Missing {
  scenario: string;
  runtime: BenchRuntime;
  error: string;
}

interface Result {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  machine: ReturnType<typeof machine>;
  runtimes: BenchRuntime[];
  seconds: Record<string, number>;
  figures: Figure[];
  errors: Missing[];
  /** Figures not measured, and why (e.g. no Docker engine answers). Never filled in by guesses. */
  notRun: Missing[];
  /** Later runs whose figures were merged in with --append. */
  appended?: Array<{ startedAt: string; finishedAt: string; runtimes: BenchRuntime[]; scenarios: string[] }>;
}

function parseRuntimes(words: string[]): BenchRuntime[] | string {
  const env = (process.env.BENCH_RUNTIMES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const picked = words.length ? words : env;
  const bad = picked.filter((r) => !RUNTIMES.includes(r as BenchRuntime));
  if (bad.length) return `unknown runtime ${bad.join(', ')} — runtimes: ${RUNTIMES.join(', ')}`;
  return picked.length ? (picked as BenchRuntime[]) : RUNTIMES;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--merge')) return mergeFiles(argv.filter((a) => a !== '--merge'));
  const quick = argv.includes('--quick');
  const append = argv.includes('--append');
  const words = argv.filter((a) => !a.startsWith('--'));
  const runtimes = parseRuntimes(words.filter((w) => RUNTIMES.includes(w as BenchRuntime)));
  if (typeof runtimes === 'string') {
    console.error(runtimes);
    return 2;
  }
  const names = words.filter((w) => !RUNTIMES.includes(w as BenchRuntime));
  const unknown = names.filter((n) => !scenarios[n]);
  if (unknown.length) {
    console.error(`unknown scenario ${unknown.join(', ')} — scenarios: ${Object.keys(scenarios).join(', ')}`);
    return 2;
  }
  const chosen = names.length ? names : Object.keys(scenarios);
  const explicitDocker = words.includes('docker') || (process.env.BENCH_RUNTIMES ?? '').includes('docker');
  const started = new Date();
  const figures: Figure[] = [];
  const errors: Missing[] = [];
  const notRun: Missing[] = [];
  const seconds: Record<string, number> = {};
  for (const rt of runtimes) {
    const plan = rt === 'docker' ? chosen.filter((n) => DOCKER_SCENARIOS.includes(n)) : chosen;
    if (rt === 'docker' && plan.length) {
      const why = await requireDocker().then(() => null, (e: Error) => e.message);
      if (why) {
        console.error(`  docker figures not run: ${why}`);
        notRun.push(...plan.map((scenario) => ({ scenario, runtime: rt, error: why })));
        continue;
      }
    }
    useRuntime(rt);
    for (const name of plan) {
      const key = rt === 'local' ? name : `${name}@${rt}`;
      const t = performance.now();
      console.log(`▶ ${name} (${rt})`);
      try {
        figures.push(...(await scenarios[name]({ quick, log: (l) => console.log(`  ${l}`) })));
      } catch (e) {
        errors.push({ scenario: name, runtime: rt, error: (e as Error).message });
        console.error(`  ${name} (${rt}) failed: ${(e as Error).message}`);
      }
      seconds[key] = Math.round((performance.now() - t) / 100) / 10;
      console.log(`  done in ${seconds[key]} s`);
    }
  }
  useRuntime('local');
  let result: Result = { startedAt: started.toISOString(), finishedAt: new Date().toISOString(), quick, machine: machine(), runtimes, seconds, figures, errors, notRun };
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const full = chosen.length === Object.keys(scenarios).length && runtimes.length === RUNTIMES.length;
  let base = full ? 'latest' : 'partial';
  if (append && !quick) {
    const file = new URL('latest.json', dir);
    if (!existsSync(file)) {
      console.error('--append needs bench/results/latest.json (run the whole suite once)');
      return 2;
    }
    result = merge(JSON.parse(readFileSync(file, 'utf8')) as Result, result, chosen);
    base = 'latest';
  }
  const md = markdown(result);
  if (!quick) {
    // A run of some scenarios must not replace the full table docs/performance.md embeds (unless appended).
    writeFileSync(new URL(`${base}.json`, dir), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(new URL(`${base}.md`, dir), md);
    console.log(`wrote bench/results/${base}.json and ${base}.md`);
  }
  console.log(`\n${md}`);
  return errors.length || (explicitDocker && notRun.length) ? 1 : 0;
}

/** Merges saved partial runs into latest.*; the scenarios a partial ran are the keys of its `seconds`. */
function mergeFiles(files: string[]): number {
  const dir = new URL('./results/', import.meta.url);
  const latest = new URL('latest.json', dir);
  if (!files.length || !existsSync(latest)) {
    console.error('usage: npm run bench -- --merge bench/results/partial-NAME.json …  (needs bench/results/latest.json)');
    return 2;
  }
  let result = JSON.parse(readFileSync(latest, 'utf8')) as Result;
  for (const file of files) {
    if (!existsSync(file)) {
      console.error(`${file}: no such file — give the path of a saved partial.json`);
      return 2;
    }
    const run = JSON.parse(readFileSync(file, 'utf8')) as Result;
    if (run.quick) {
      console.error(`${file}: a --quick run, not merged (its figures are one repetition)`);
      return 2;
    }
    const chosen = [...new Set(Object.keys(run.seconds).map((k) => k.split('@')[0]))];
    result = merge(result, run, chosen);
    console.log(`merged ${file}: ${chosen.join(', ')} on ${run.runtimes.join(', ')}`);
  }
  writeFileSync(latest, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(new URL('latest.md', dir), markdown(result));
  console.log('wrote bench/results/latest.json and latest.md');
  return 0;
}

/** The figures of `run` replace those of the same scenario and runtime in `base`; order: scenario, then runtime. */
function merge(base: Result, run: Result, chosen: string[]): Result {
  const ran = new Set(run.runtimes.flatMap((rt) => chosen.map((s) => `${s}|${rt}`)));
  const keep = <T extends { scenario: string; runtime?: string }>(xs: T[] | undefined) => (xs ?? []).filter((x) => !ran.has(`${x.scenario}|${x.runtime ?? 'local'}`));
  const order = Object.keys(scenarios);
  const rank = (f: Figure) => order.indexOf(f.scenario) * 10 + RUNTIMES.indexOf(f.runtime as BenchRuntime);
  const figures = [...keep(base.figures), ...run.figures].map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map((x) => x.f);
  return {
    ...base,
    runtimes: [...new Set([...(base.runtimes ?? ['local']), ...run.runtimes])],
    seconds: { ...base.seconds, ...run.seconds },
    figures,
    errors: [...keep(base.errors), ...run.errors],
    notRun: [...keep(base.notRun), ...run.notRun],
    appended: [...(base.appended ?? []), { startedAt: run.startedAt, finishedAt: run.finishedAt, runtimes: run.runtimes, scenarios: chosen }],
  };
}

function markdown(r: Result): string {
  const stamp = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;
  const m = r.machine;
  const short = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…` : s);
  return [
    `Run ${stamp(r.startedAt)} on ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}${r.quick ? ' (quick)' : ''}.`,
    ...(r.appended ?? []).map((a) => `Figures of ${a.runtimes.join(', ')} for ${a.scenarios.join(', ')} from a run at ${stamp(a.startedAt)} (same machine), merged in.`),
    '',
    markdownTable(r.figures),
    ...(breakdownLines(r.figures).length ? ['', ...breakdownLines(r.figures)] : []),
    ...(r.errors.length ? ['', ...r.errors.map((e) => `- **${e.scenario} (${e.runtime ?? 'local'}) failed**: ${short(e.error)}`)] : []),
    ...(r.notRun?.length ? ['', ...r.notRun.map((e) => `- **${e.scenario} (${e.runtime}) not run**: ${short(e.error)}`)] : []),
    '',
  ].join('\n');
}

process.exitCode = await main(process.argv.slice(2));
