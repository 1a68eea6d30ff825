import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { PatroniClient } from '../../src/patroni/client.js';

const base = { POSTGRES_ADMIN_PASSWORD: 'a'.repeat(12), POSTGRES_REPLICATOR_PASSWORD: 'b'.repeat(12) };

describe('Patroni backend configuration', () => {
  it('defaults to the native backend', () => {
    expect(loadConfig(base).CLUSTER_BACKEND).toBe('native');
  });

  it('reads the Patroni REST endpoints', () => {
    const c = loadConfig({ ...base, CLUSTER_BACKEND: 'patroni', PATRONI_URLS: 'http://10.0.0.1:8008, http://10.0.0.2:8008/' });
    expect(c.PATRONI_URLS).toEqual(['http://10.0.0.1:8008', 'http://10.0.0.2:8008/']);
    expect(PatroniClient.fromConfig(c).urls).toEqual(['http://10.0.0.1:8008', 'http://10.0.0.2:8008']);
  });

  it('refuses bad Patroni settings with one clear line', () => {
    expect(() => loadConfig({ ...base, CLUSTER_BACKEND: 'zookeeper' })).toThrow(/CLUSTER_BACKEND: .*"native"\|"patroni"|CLUSTER_BACKEND/);
    expect(() => loadConfig({ ...base, PATRONI_URLS: 'ftp://x:1' })).toThrow(/PATRONI_URLS: must be a comma list of http\(s\):\/\/host:port URLs/);
    const c = loadConfig({ ...base, CLUSTER_BACKEND: 'patroni' });
    expect(() => PatroniClient.fromConfig(c)).toThrow(/CLUSTER_BACKEND=patroni needs PATRONI_URLS/);
  });

  it('masks the Patroni password', () => {
    const c = loadConfig({ ...base, CLUSTER_BACKEND: 'patroni', PATRONI_URLS: 'http://127.0.0.1:8008', PATRONI_USERNAME: 'bot', PATRONI_PASSWORD: 'patroni-secret-1' });
    expect(c.secrets).toContain('patroni-secret-1');
  });
});
