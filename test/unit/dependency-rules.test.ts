// The layer rules of docs/architecture.md, as dependency-cruiser checks them (npm run deps): the whole graph of
// src/ and commands/ (every import, `import type` too) has no cycle and breaks no rule, and on the
// code that runs src/present/ calls no operation. A failure names each broken import.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const depcruise = fileURLToPath(new URL('../../node_modules/dependency-cruiser/bin/dependency-cruise.mjs', import.meta.url));

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
  cycle?: Array<{ name: string }>;
}

function cruise(config: string): { modules: number; violations: string[] } {
  const run = spawnSync(process.execPath, [depcruise, '--config', config, '--output-type', 'json', 'src', 'commands'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (run.status !== 0 && !run.stdout.startsWith('{')) throw new Error(`depcruise --config ${config} failed: ${run.stderr || run.stdout}`);
  const { summary } = JSON.parse(run.stdout) as { summary: { totalCruised: number; violations: Violation[] } };
  return {
    modules: summary.totalCruised,
    violations: summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.cycle ? v.cycle.map((c) => c.name).join(' → ') : v.to}`),
  };
}

describe('dependency rules (npx depcruise src commands)', () => {
  it('src/ and commands/ have no import cycle and keep the layer rules', () => {
    const r = cruise('.dependency-cruiser.cjs');
    expect(r.modules, 'dependency-cruiser read too few modules: is @swc/core installed (npm ci)?').toBeGreaterThan(150);
    expect(r.violations).toEqual([]);
  });

  it('src/present/ calls no operation (npx depcruise -c .dependency-cruiser.values.cjs src commands)', () => {
    const r = cruise('.dependency-cruiser.values.cjs');
    expect(r.modules, 'dependency-cruiser read too few modules: are @swc/core and @babel/core installed (npm ci)?').toBeGreaterThan(150);
    expect(r.violations).toEqual([]);
  });
});
