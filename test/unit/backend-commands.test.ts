// One command tree over both backends: every /cluster command asks the backend, and on a backend
// without that capability answers one line saying what to do instead — never "unknown command".
// Both apps point at nothing that runs (closed ports), so no command can change anything here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.js';
import { createApp, type App } from '../../src/app.js';
import { PATRONI_INSTEAD } from '../../src/backend/patroni.js';
import { loadConfig } from '../../src/config.js';
import { botTestEnv, freePort } from '../helpers/cluster.js';

const base = { POSTGRES_ADMIN_PASSWORD: 'a'.repeat(12), POSTGRES_REPLICATOR_PASSWORD: 'b'.repeat(12) };
const admin = { id: 'alice', display: 'alice', platform: 'shell' as const };
const surface = { platform: 'shell' as const, channel: 'test' };

/** A valid argument line for each command (the command's own validation is tested elsewhere). */
const SAMPLE: Record<string, string> = {
  connect: 'standby', start: 'readonly', stop: 'readonly', restart: 'readonly', logs: 'standby', failover: 'standby', switchover: 'standby',
  rejoin: 'readonly', follow: 'readonly', sync: 'on', maintenance: 'on', backup: 'incremental', lag: '10m', help: 'status',
};
// These run the backup engine or build a cluster: covered by their own integration tests, not run here.
const ENGINE = new Set(['backup', 'verify', 'restore-check']);
const NATIVE_BUILDS = new Set(['up', 'start', 'restart']);
const NOT_AVAILABLE = /is not available with the (native|Patroni) backend/;

describe('every command on both backends', () => {
  let dir: string;
  let native: App;
  let patroni: App;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'clusterbot-backends-'));
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const nodes = `primary:${ports[0]},standby:${ports[1]},readonly:${ports[2]}:nofailover`;
    const env = { ...base, ...(await botTestEnv()), CLUSTER_NODES: nodes, PG_CONNECT_TIMEOUT_MS: '300' };
    native = await createApp(loadConfig({ ...env, CLUSTERBOT_HOME: join(dir, 'native') }));
    patroni = await createApp(
      loadConfig({ ...env, CLUSTERBOT_HOME: join(dir, 'patroni'), CLUSTER_BACKEND: 'patroni', PATRONI_URLS: `http://127.0.0.1:${ports[3]}`, PATRONI_TIMEOUT_MS: '300', RESET_ENABLED: 'true' }),
    );
  });

  afterAll(async () => {
    await native?.close();
    await patroni?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('both backends serve the one command tree', () => {
    expect(native.router.commands).toBe(commands);
    expect(patroni.router.commands).toBe(commands);
    expect(native.services.backend.name).toBe('native');
    expect(patroni.services.backend.name).toBe('patroni');
  });

  it('on Patroni, each command either acts through Patroni or answers one line saying what to do instead', async () => {
    const instead: Record<string, string> = {};
    for (const c of commands.filter((x) => !ENGINE.has(x.name))) {
      const r = await patroni.router.handle(`${c.name} ${SAMPLE[c.name] ?? ''}`.trim(), admin, surface);
      expect(r.title, `${c.name}: ${r.text}`).not.toBe('Unknown command');
      if (NOT_AVAILABLE.test(r.text ?? '')) instead[c.name] = r.text!;
    }
    expect(Object.keys(instead).sort()).toEqual(Object.keys(PATRONI_INSTEAD).sort());
    for (const [name, text] of Object.entries(instead)) {
      expect(text).toBe(`/cluster ${name} is not available with the Patroni backend — ${PATRONI_INSTEAD[name as keyof typeof PATRONI_INSTEAD]}`);
      expect(text).not.toContain('\n');
    }
    // What it does have goes to Patroni (unreachable here), and says so.
    const status = await patroni.router.handle('status', admin, surface);
    expect(status.fields?.find((f) => f.label === 'Patroni')?.value).toMatch(/^UNREACHABLE — no Patroni member answered/);
    expect((await patroni.router.handle('failover standby', admin, surface)).text).toMatch(/^failover refused: Patroni cannot be reached/);
  });

  it('on the native backend, no command is missing', async () => {
    for (const c of commands.filter((x) => !ENGINE.has(x.name) && !NATIVE_BUILDS.has(x.name))) {
      const r = await native.router.handle(`${c.name} ${SAMPLE[c.name] ?? ''}`.trim(), admin, surface);
      expect(r.title, c.name).not.toBe('Unknown command');
      expect(r.text ?? '', c.name).not.toMatch(NOT_AVAILABLE);
    }
    const status = await native.router.handle('status', admin, surface);
    expect((status.data as { nodes: Array<{ up: boolean }> }).nodes.map((n) => n.up)).toEqual([false, false, false]);
  });
});
