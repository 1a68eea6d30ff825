// TLS on the Patroni backend, on real etcd + Patroni + PostgreSQL: the harness gives each member a
// certificate from the cluster CA, ssl on and hostssl-only pg_hba through Patroni's configuration, and
// Patroni's replication and rewind connections verify-full. A plain connection is refused, replication
// streams over TLS, the bot verifies every member, and a switchover (pg_rewind-free but a full
// re-point through Patroni's own connections) keeps streaming over TLS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPatroniBot, type PatroniBot } from './app.js';
import { startPatroniCluster, type PatroniHarness } from './harness.js';
import { findPgBin } from '../../src/runtime/pg-binaries.js';
import { runProgram } from '../../src/runtime/process.js';
import { caFile } from '../../src/db/tls.js';
import { within } from '../helpers/wait.js';

describe('TLS through Patroni', () => {
  let h: PatroniHarness;
  let bot: PatroniBot;
  const psql = (port: number, extra: string) =>
    runProgram(`${findPgBin(process.env.PG_BIN)}/psql`, ['-X', '-At', '-d', `host=127.0.0.1 port=${port} user=admin dbname=proyecto_db ${extra}`, '-c', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'], {
      env: { PGPASSWORD: h.env.POSTGRES_ADMIN_PASSWORD, PGCONNECT_TIMEOUT: '5' },
    });
  const sslWalsenders = async (leader: string) =>
    (await bot.sql<{ application_name: string; ssl: boolean }>(leader, 'SELECT r.application_name, s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) ORDER BY 1')).map((r) => `${r.application_name}:${r.ssl}`);

  beforeAll(async () => {
    h = await startPatroniCluster({ ttl: 10, loopWait: 2, retryTimeout: 4 });
    bot = await startPatroniBot(h);
  });
  afterAll(async () => {
    await bot?.close().catch(() => undefined);
    await h?.destroy();
  });

  it('refuses a plain connection to every member and admits verify-full against the cluster CA', async () => {
    for (const m of h.members) {
      const plain = await psql(m.pgPort, 'sslmode=disable');
      expect(plain.code).not.toBe(0);
      expect(plain.stderr).toMatch(/no pg_hba\.conf entry for host "127\.0\.0\.1".*no encryption/);
      const ok = await psql(m.pgPort, `sslmode=verify-full sslrootcert=${caFile(bot.config)}`);
      expect(ok.stderr).toBe('');
      expect(ok.stdout.trim()).toBe('t');
    }
  });

  it('replicas stream over TLS with verify-full (pg_stat_ssl of the walsenders on the leader)', async () => {
    expect(await sslWalsenders('primary')).toEqual(['readonly:true', 'standby:true']);
    const [{ conninfo }] = await bot.sql<{ conninfo: string }>('standby', "SELECT current_setting('primary_conninfo') AS conninfo");
    expect(conninfo).toMatch(/sslmode='?verify-full'?/);
  });

  it('/cluster status shows every member\'s certificate, read over the bot\'s verified connections', async () => {
    const status = await bot.run('/cluster status');
    const line = status.fields?.find((f) => f.label === 'TLS certificates')?.value ?? `(no TLS line: ${JSON.stringify(status.fields)})`;
    expect(line).toMatch(/^primary \d{4}-\d\d-\d\d \(36[45] d\), standby \d{4}-\d\d-\d\d \(36[45] d\), readonly \d{4}-\d\d-\d\d \(36[45] d\)$/);
  });

  it('after a switchover the replicas stream from the new leader over TLS again', async () => {
    h.patronictl(['switchover', '--leader', 'primary', '--candidate', 'standby', '--force']);
    const seen = await within('primary and readonly streaming over TLS from standby', 120_000, async () => {
      const s = await sslWalsenders('standby').catch(() => []);
      return s.join(',') === 'primary:true,readonly:true' ? s : null;
    });
    expect(seen).toEqual(['primary:true', 'readonly:true']);
  });
});
