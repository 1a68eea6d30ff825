// docs/ pages that `npm run docs` generates: the configuration reference from the zod schema (every
// key with its real default) and the benchmark tables copied from bench/results/*.md. A committed
// page that differs from what the generator makes now fails, saying how to fix it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CONFIG_DOC, keyDocs, parseEnvExample, renderConfigDocs } from '../../scripts/gen-config-docs.js';
import { embedBenchResults, generatedDocs } from '../../scripts/gen-docs.js';
import { configSchema, loadConfig } from '../../src/config.js';

const envExample = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');

describe('generated docs', () => {
  it('every generated page is committed as the generator makes it now (performance.md embeds bench/results/latest.md)', () => {
    const pages = generatedDocs();
    expect([...pages.keys()].map((p) => p.replace(/^.*\/docs\//, 'docs/'))).toEqual(expect.arrayContaining(['docs/configuration.md', 'docs/performance.md']));
    for (const [path, fresh] of pages) {
      const committed = readFileSync(path, 'utf8');
      expect(committed === fresh, `${path.replace(/^.*\/docs\//, 'docs/')} is stale: run npm run docs`).toBe(true);
    }
    const latest = readFileSync(new URL('../../bench/results/latest.md', import.meta.url), 'utf8').trim();
    expect(readFileSync(new URL('../../docs/performance.md', import.meta.url), 'utf8')).toContain(latest);
  });

  it('replaces only what lies between the markers of a bench results file', () => {
    const page = ['intro', '<!-- begin bench/results/x.md: generated -->', 'old table', '<!-- end bench/results/x.md -->', 'outro'].join('\n');
    expect(embedBenchResults(page, (rel) => (rel === 'bench/results/x.md' ? '| new |\n' : 'wrong file'))).toBe(
      ['intro', '<!-- begin bench/results/x.md: generated -->', '| new |', '<!-- end bench/results/x.md -->', 'outro'].join('\n'),
    );
  });
});

describe('configuration reference (docs/configuration.md)', () => {
  it('is up to date with src/config.ts and .env.example', () => {
    const committed = readFileSync(CONFIG_DOC, 'utf8');
    const fresh = renderConfigDocs(envExample);
    const stale = committed.split('\n').find((line, i) => line !== fresh.split('\n')[i]);
    expect(committed === fresh, `docs/configuration.md is stale (first differing line: ${JSON.stringify(stale)}): run npm run docs`).toBe(true);
  });

  it('lists every schema key once, with the default the bot really uses', () => {
    const docs = keyDocs(envExample).sections.flatMap((s) => s.keys);
    expect(docs.map((d) => d.key).sort()).toEqual(Object.keys(configSchema.shape).sort());
    const given = { POSTGRES_ADMIN_PASSWORD: 'a'.repeat(12), POSTGRES_REPLICATOR_PASSWORD: 'b'.repeat(12) };
    const parsed = loadConfig(given) as unknown as Record<string, unknown>;
    for (const d of docs) {
      const v = d.key in given ? undefined : parsed[d.key];
      if (typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v !== '')) expect(d.default, d.key).toBe(`\`${String(v)}\``);
      expect(d.description, `${d.key} has no description (add .describe() in src/config.ts or a comment in .env.example)`).not.toBe('');
    }
    const byKey = Object.fromEntries(docs.map((d) => [d.key, d]));
    expect(byKey.POSTGRES_ADMIN_PASSWORD.default).toBe('**required**');
    expect(byKey.REQUIRE_SECOND_APPROVER.type).toBe('boolean');
    expect(byKey.RUNTIME.type).toBe('`local` | `docker`');
    expect(byKey.ADMINS.type).toBe('comma-separated list');
    expect(byKey.HTTP_PORT.type).toBe('integer ≥ 1, ≤ 65535');
  });

  it('falls back to the .env.example comment (shared by the keys under it) for a key without .describe()', () => {
    const env = parseEnvExample(['# --- one ---', '# Shared by both.', 'A_KEY=1', 'B_KEY=2', '', 'C_KEY=3', '# Compose only.', '# D_KEY=x'].join('\n'));
    expect(env.sections).toEqual([{ title: 'one', keys: ['A_KEY', 'B_KEY', 'C_KEY'] }]);
    expect(env.comments.get('A_KEY')).toBe('Shared by both.');
    expect(env.comments.get('B_KEY')).toBe('Shared by both.');
    expect(env.comments.has('C_KEY')).toBe(false);
    expect(env.composeOnly).toEqual([{ key: 'D_KEY', example: 'x' }]);

    const shape = { A_KEY: z.coerce.number().int().default(1), B_KEY: z.string().optional().describe('Own words.'), NEW_KEY: z.string().default('n') };
    const docs = keyDocs('# --- one ---\n# Shared by both.\nA_KEY=1\nB_KEY=2\n', shape);
    expect(docs.sections).toEqual([
      { title: 'one', keys: [
        { key: 'A_KEY', type: 'integer', default: '`1`', description: 'Shared by both.' },
        { key: 'B_KEY', type: 'text', default: '(unset)', description: 'Own words.' },
      ] },
      { title: 'other (not yet in .env.example)', keys: [{ key: 'NEW_KEY', type: 'text', default: '`n`', description: '' }] },
    ]);
  });
});
