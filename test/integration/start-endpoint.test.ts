// `clusterbot start` (what scripts/start.sh runs) prints the write endpoint it started and the
// synchronous mode it applied, and the endpoint answers writes on the primary.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestCluster, type TestCluster } from '../helpers/cluster.js';

const BIN = new URL('../../bin/clusterbot.js', import.meta.url).pathname;

describe('clusterbot start with the write endpoint and SYNC_MODE=on', () => {
  let c: TestCluster;
  let port: number;
  beforeAll(async () => {
    if (!existsSync(new URL('../../dist/src/cli.js', import.meta.url))) throw new Error('dist/ is missing: run `npm run build`');
    port = await freePort();
    c = await startTestCluster({ env: { WRITE_ENDPOINT: 'true', WRITE_ENDPOINT_PORT: String(port), SYNC_MODE: 'on', BACKUP_SCHEDULES: 'false', HEALTH_REPORT_CRON: 'off' } });
  });
  afterAll(async () => c?.destroy());

  it('prints "Write endpoint: 127.0.0.1:PORT → primary" and the sync mode; a client writes through it', async () => {
    const child = spawn(process.execPath, [BIN, 'start'], { env: { PATH: process.env.PATH, ...c.env, CLUSTERBOT_ENV_FILE: '/dev/null' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const until = async (re: RegExp, what: string) => {
      for (let i = 0; i < 300 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out, `waiting for ${what}`).toMatch(re);
    };
    try {
      await until(/Type \/cluster help/, 'the chat to open');
      expect(out).toMatch(new RegExp(`clusterbot: Write endpoint: 127\\.0\\.0\\.1:${port} → primary \\(PgBouncer started, pid \\d+\\)`));
      expect(out).toMatch(/clusterbot: Sync replication: synchronous on primary: ANY 1 \("standby"\) — standby streaming/);
      const client = new pg.Client({ host: '127.0.0.1', port, user: c.config.POSTGRES_ADMIN_USER, password: c.config.POSTGRES_ADMIN_PASSWORD, database: c.config.PG_DATABASE });
      await client.connect();
      try {
        const r = await client.query<{ p: number }>("INSERT INTO proyecto.logs_replicacion (evento, nodo, usuario, detalle) VALUES ('endpoint_test', 'primary', 'test', '{}') RETURNING inet_server_port() AS p");
        expect(r.rows[0].p).toBe(c.app.services.node('primary').port);
      } finally {
        await client.end();
      }
      child.stdin.write('/cluster status\n');
      await until(/Write endpoint: 127\.0\.0\.1:\d+ → primary — the primary itself: 127\.0\.0\.1:\d+\n/, 'the endpoint line in the status card');
      expect(out).toMatch(/Sync replication: on — standby synchronous/);
      child.stdin.write('exit\n');
      expect(await new Promise<number | null>((resolve) => child.once('exit', resolve))).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
