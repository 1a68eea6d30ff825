// The one-shot CLI as a script would use it: real process, real cluster, exit codes.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';

const BIN = new URL('../../bin/clusterbot.js', import.meta.url).pathname;
const DIST = new URL('../../dist/src/cli.js', import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(c: TestCluster, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH, ...c.env, CLUSTERBOT_ENV_FILE: '/dev/null', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('clusterbot run (one-shot CLI)', () => {
  let c: TestCluster;
  beforeAll(async () => {
    if (!existsSync(DIST)) throw new Error('dist/ is missing: run `npm run build` (scripts/test.sh does it)');
    c = await startTestCluster();
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('answers /cluster status --json with nodes[] for scripts', async () => {
    const r = await cli(c, ['run', '/cluster status', '--json']);
    expect(r.code).toBe(0);
    const data = JSON.parse(r.stdout);
    expect(data.nodes.map((n: { name: string; role: string }) => `${n.name}:${n.role}`)).toEqual(['primary:primary', 'standby:replica', 'readonly:replica']);
    for (const n of data.nodes) {
      expect(Object.keys(n)).toEqual(expect.arrayContaining(['name', 'role', 'up', 'host', 'port', 'timeline', 'lagBytes', 'lagSeconds', 'streaming', 'upstream']));
    }
  });

  it('exits non-zero with one line for an unknown subcommand', async () => {
    const r = await cli(c, ['run', '/cluster statsu']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Unknown subcommand "statsu" — did you mean \/cluster status\?/);
  });

  it('rejects a malformed .env value before touching anything', async () => {
    const r = await cli(c, ['run', '/cluster status'], { HTTP_PORT: 'abc' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/HTTP_PORT: must be a port number/);
  });

  it('refuses --as for an unknown user, and applies the level of a known one', async () => {
    const unknown = await cli(c, ['run', '/cluster status', '--as', 'mallory']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--as mallory: no such user/);
    const viewer = await cli(c, ['run', '/cluster stop readonly', '--as', 'victor']);
    expect(viewer.code).toBe(1);
    expect(viewer.stdout).toMatch(/victor is a viewer; \/cluster stop needs operator/);
    expect(await c.app.services.runtime.isRunning(c.app.services.node('readonly'))).toBe(true);
  });

  it('--confirm presses Confirm under the same rules as a chat click', async () => {
    const refused = await cli(c, ['run', '/cluster stop primary', '--confirm', '--as', 'olga']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/olga is an operator; only an admin can confirm/);
    expect(await c.app.services.runtime.isRunning(c.app.services.node('primary'))).toBe(true);
  });

  it('says which port is taken when a node cannot start, and changes nothing', async () => {
    const readonly = c.app.services.node('readonly');
    expect((await cli(c, ['run', '/cluster stop readonly'])).code).toBe(0);
    // Accepts and drops connections, like a foreign program holding the port.
    const squatter: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => squatter.listen(readonly.port, '127.0.0.1', () => r()));
    try {
      const r = await cli(c, ['run', '/cluster start readonly']);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`port ${readonly.port} on 127.0.0.1 is already in use by another program`));
      expect(await c.app.services.runtime.isRunning(readonly)).toBe(false);
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()));
    }
    const back = await cli(c, ['run', '/cluster start readonly']);
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/streaming from primary/);
  });
});
