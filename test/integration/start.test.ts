// `clusterbot start` as a person runs it: the existing cluster is reused, a node that cannot start
// is reported and the chat opens anyway, the monitor's alert about it reaches the terminal, status
// answers, and `exit` leaves the cluster running.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotProcess } from '../helpers/bot-process.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';

describe('clusterbot start (terminal chat)', () => {
  let c: TestCluster;
  beforeAll(async () => {
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
    const bot = new BotProcess(c.env);
    bot.start();
    try {
      await bot.until(/Type \/cluster help/, 'the chat to open', 30_000);
      expect(bot.out).toMatch(/primary: already running/);
      expect(bot.out).toMatch(new RegExp(`readonly: FAILED — port ${readonly.port} on 127.0.0.1 is already in use`));
      await bot.until(/\[#alerts\][^\n]*readonly/, 'the node-down alert in the terminal', 30_000);
      bot.send('/cluster status');
      await bot.until(/Cluster status — primary primary/, 'the status card', 30_000);
      bot.send('exit');
      expect(await bot.exit()).toBe(0);
      expect(bot.out).toMatch(/The cluster keeps running/);
      expect(await c.app.services.runtime.isRunning(c.app.services.node('primary'))).toBe(true);
    } finally {
      await bot.kill9();
      await new Promise<void>((r) => squatter.close(() => r()));
    }
  });
});
