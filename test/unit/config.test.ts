import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema, loadConfig } from '../../src/config.js';

const base = { POSTGRES_ADMIN_PASSWORD: 'a'.repeat(12), POSTGRES_REPLICATOR_PASSWORD: 'b'.repeat(12) };

describe('configuration', () => {
  it('defaults to the seed topology: primary 5432, standby 5433, readonly 5434 that is never promoted', () => {
    const c = loadConfig(base);
    expect(c.nodes.map((n) => [n.name, n.port, n.failover])).toEqual([
      ['primary', 5432, true],
      ['standby', 5433, true],
      ['readonly', 5434, false],
    ]);
    expect(c.RUNTIME).toBe('local');
    expect(c.REQUIRE_SECOND_APPROVER).toBe(false);
  });

  it('lists every bad key in one error', () => {
    let message = '';
    try {
      loadConfig({ ...base, HTTP_PORT: 'abc', CLUSTER_NODES: 'primary:abc', POSTGRES_ADMIN_PASSWORD: 'x' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('HTTP_PORT: must be a port number');
    expect(message).toContain('CLUSTER_NODES: "primary:abc" is not');
    expect(message).toContain('POSTGRES_ADMIN_PASSWORD: must be at least 8 characters');
    expect(message.split('\n')).toHaveLength(1);
  });

  it('rejects duplicate node names and ports', () => {
    expect(() => loadConfig({ ...base, CLUSTER_NODES: 'a:5000,a:5001' })).toThrowError(/unique/);
    expect(() => loadConfig({ ...base, CLUSTER_NODES: 'a:5000,b:5000' })).toThrowError(/share host:port/);
  });

  it('documents every key in .env.example', () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const documented = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    const missing = Object.keys(configSchema.shape).filter((k) => !documented.has(k));
    expect(missing).toEqual([]);
  });
});
