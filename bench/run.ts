// npm run bench [-- <scenario> …] [--quick]: runs the scenarios, writes bench/results/latest.json
// and bench/results/latest.md (the table the README embeds); a run of some scenarios writes
// partial.json/partial.md instead; --quick writes nothing.
import { mkdirSync, writeFileSync } from 'node:fs';
import { breakdownLines, machine, markdownTable, type Figure } from './lib.js';
import { scenarios } from './scenarios.js';

async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const names = argv.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !scenarios[n]);
  if (unknown.length) {
    console.error(`unknown scenario ${unknown.join(', ')} — scenarios: ${Object.keys(scenarios).join(', ')}`);
    return 2;
  }
  const chosen = names.length ? names : Object.keys(scenarios);
  const started = new Date();
  const figures: Figure[] = [];
  const errors: Array<{ scenario: string; error: string }> = [];
  const seconds: Record<string, number> = {};
  for (const name of chosen) {
    const t = performance.now();
    console.log(`▶ ${name}`);
    try {
      figures.push(...(await scenarios[name]({ quick, log: (l) => console.log(`  ${l}`) })));
    } catch (e) {
      errors.push({ scenario: name, error: (e as Error).message });
      console.error(`  ${name} failed: ${(e as Error).message}`);
    }
    seconds[name] = Math.round((performance.now() - t) / 100) / 10;
    console.log(`  done in ${seconds[name]} s`);
  }
  const result = { startedAt: started.toISOString(), finishedAt: new Date().toISOString(), quick, machine: machine(), seconds, figures, errors };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const md = [
    `Run ${result.startedAt.slice(0, 16).replace('T', ' ')} UTC on ${result.machine.cpus} × ${result.machine.cpuModel}, ${result.machine.memoryGiB} GiB, Node ${result.machine.node}${quick ? ' (quick)' : ''}.`,
    '',
    markdownTable(figures),
    ...(breakdownLines(figures).length ? ['', ...breakdownLines(figures)] : []),
    ...(errors.length ? ['', ...errors.map((e) => `- **${e.scenario} failed**: ${e.error.length > 300 ? `${e.error.slice(0, 300)}…` : e.error}`)] : []),
    '',
  ].join('\n');
  if (!quick) {
    // A run of some scenarios must not replace the full table the README embeds.
    const base = chosen.length === Object.keys(scenarios).length ? 'latest' : 'partial';
    writeFileSync(new URL(`./results/${base}.json`, import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(new URL(`./results/${base}.md`, import.meta.url), md);
    console.log(`wrote bench/results/${base}.json and ${base}.md`);
  }
  console.log(`\n${md}`);
  return errors.length ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
