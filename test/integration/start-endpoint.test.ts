// `clusterbot start` (what scripts/start.sh runs) prints the write endpoint it started and the
// synchronous mode it applied, and the endpoint answers writes on the primary.
import pg from 'pg';
import { adminClientConfig } from '../../src/db/tls.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotProcess } from '../helpers/bot-process.js';
import { freePort, startTestCluster, type TestCluster } from '../helpers/cluster.js';

describe('clusterbot start with the write endpoint and SYNC_MODE=on', () => {
  let c: TestCluster;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    c = await startTestCluster({ env: { WRITE_ENDPOINT: 'true', WRITE_ENDPOINT_PORT: String(port), SYNC_MODE: 'on', BACKUP_SCHEDULES: 'false', HEALTH_REPORT_CRON: 'off' } });
  });
  afterAll(async () => c?.destroy());

  it('prints "Write endpoint: 127.0.0.1:PORT → primary" and the sync mode; a client writes through it', async () => {
    const bot = new BotProcess(c.env);
    bot.start();
    try {
      await bot.until(/Type \/cluster help/, 'the chat to open', 30_000);
      expect(bot.out).toMatch(new RegExp(`clusterbot: Write endpoint: 127\\.0\\.0\\.1:${port} → primary \\(PgBouncer started, pid \\d+\\)`));
      expect(bot.out).toMatch(/clusterbot: Sync replication: synchronous on primary: ANY 1 \("standby"\) — standby streaming/);
      const client = new pg.Client(adminClientConfig(c.config, { host: '127.0.0.1', port }));
      await client.connect();
      try {
        const r = await client.query<{ p: number }>("INSERT INTO proyecto.logs_replicacion (evento, nodo, usuario, detalle) VALUES ('endpoint_test', 'primary', 'test', '{}') RETURNING inet_server_port() AS p");
        expect(r.rows[0].p).toBe(c.app.services.node('primary').port);
      } finally {
        await client.end();
      }
      bot.send('/cluster status');
      await bot.until(/Write endpoint: 127\.0\.0\.1:\d+ → primary — the primary itself: 127\.0\.0\.1:\d+\n/, 'the endpoint line in the status card', 30_000);
      expect(bot.out).toMatch(/Sync replication: on — standby synchronous/);
      bot.send('exit');
      expect(await bot.exit()).toBe(0);
    } finally {
      await bot.kill9();
    }
  });
});
