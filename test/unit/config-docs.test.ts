// docs/configuration.md is generated from the zod schema (npm run docs): it must match the schema
// as it is now, and name every key with its real default.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOC, keyDocs, parseEnvExample, renderConfigDocs } from '../../scripts/gen-config-docs.js';
import { configSchema, loadConfig } from '../../src/config.js';

const envExample = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');

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
  });
});
