// `clusterbot start` as a person runs it: the existing cluster is reused, a node that cannot start
// is reported and the chat opens anyway, the monitor's alert about it reaches the terminal, status
// answers, and `exit` leaves the cluster running.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';

const BIN = new URL('../../bin/clusterbot.js', import.meta.url).pathname;

describe('clusterbot start (terminal chat)', () => {
  let c: TestCluster;
  beforeAll(async () => {
    if (!existsSync(new URL('../../dist/src/cli.js', import.meta.url))) throw new Error('dist/ is missing: run `npm run build`');
    c = await startTestCluster({ env: { MONITOR_INTERVAL_SECONDS: '1', BACKUP_SCHEDULES: 'false' } });
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('reuses the cluster, posts the first alert to the terminal, answers /cluster status, and exits cleanly', async () => {
    // readonly is down and cannot come back at start: another program holds its port.
    const readonly = c.app.services.node('readonly');
    await c.app.services.runtime.stop(readonly, 'fast');
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => squatter.listen(readonly.port, '127.0.0.1', () => r()));
    const child = spawn(process.execPath, [BIN, 'start'], {
      env: { PATH: process.env.PATH, ...c.env, CLUSTERBOT_ENV_FILE: '/dev/null' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const until = async (re: RegExp, what: string) => {
      for (let i = 0; i < 300 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out, `waiting for ${what}`).toMatch(re);
    };
    try {
      await until(/Type \/cluster help/, 'the chat to open');
      expect(out).toMatch(/primary: already running/);
      expect(out).toMatch(new RegExp(`readonly: FAILED — port ${readonly.port} on 127.0.0.1 is already in use`));
      await until(/\[#alerts\][^\n]*readonly/, 'the node-down alert in the terminal');
      child.stdin.write('/cluster status\n');
      await until(/Cluster status — primary primary/, 'the status card');
      child.stdin.write('exit\n');
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(0);
      expect(out).toMatch(/The cluster keeps running/);
      expect(await c.app.services.runtime.isRunning(c.app.services.node('primary'))).toBe(true);
    } finally {
      child.kill('SIGKILL');
      await new Promise<void>((r) => squatter.close(() => r()));
    }
  });
});
