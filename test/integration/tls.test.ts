// TLS on a real local cluster: plain TCP is refused (pg_hba.conf has hostssl lines only), a real libpq
// client with verify-full against the cluster CA gets in and one trusting another CA does not,
// replication streams over TLS, /cluster tls rotate gives every node a new certificate while a client
// keeps querying without a single error, and a certificate close to its end raises the expiry alert.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { ensureWriteEndpoint } from '../../src/cluster/write-endpoint/index.js';
import { isAlert, RecordingAdapter } from '../helpers/recording-adapter.js';
import { eventually } from '../helpers/wait.js';
import { RotationLoad } from '../helpers/tls-load.js';
import { adminClientConfig, caFile, presentedCertificate } from '../../src/db/tls.js';
import { certificateSerial, issueServerCertificate } from '../../src/runtime/certificates.js';
import { postgresOsUser, runProgram } from '../../src/runtime/process.js';
import { postgresAsset } from '../../src/paths.js';
import { startMonitoring } from '../../src/monitor/index.js';
import { waitFor, nodeIn } from '../../src/cluster/wait.js';
import type { LocalRuntime } from '../../src/runtime/local.js';

describe('TLS on every connection (local runtime)', () => {
  let c: TestCluster;
  let otherCa: string;
  const node = (name: string) => c.app.services.node(name);
  /** psql, a real libpq client, with this conninfo: SELECT the session's TLS state. */
  const psql = (conninfo: string) =>
    runProgram(`${(c.app.services.runtime as LocalRuntime).binDir}/psql`, ['-X', '-At', '-d', conninfo, '-c', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'], {
      env: { PGPASSWORD: c.config.POSTGRES_ADMIN_PASSWORD, PGCONNECT_TIMEOUT: '5' },
    });
  const dsn = (name: string, extra: string) => `host=127.0.0.1 port=${node(name).port} user=${c.config.POSTGRES_ADMIN_USER} dbname=${c.config.PG_DATABASE} ${extra}`;

  beforeAll(async () => {
    c = await startTestCluster({
      env: { MONITOR_INTERVAL_SECONDS: '0.5', HEALTH_REPORT_CRON: 'off', TLS_EXPIRY_WARN_DAYS: '14', WRITE_ENDPOINT: 'true', WRITE_ENDPOINT_PORT: String(await freePort()) },
    });
    expect((await ensureWriteEndpoint(c.app.services, node('primary'))).ok).toBe(true);
    expect((await waitFor(c.app.services.snapshot, (s) => s.primary === 'primary' && nodeIn(s, 'standby').streaming && nodeIn(s, 'readonly').streaming, 30_000)).ok).toBe(true);
    otherCa = mkdtempSync(join(tmpdir(), 'clusterbot-other-ca-'));
    const r = await runProgram('sh', [postgresAsset('tls.sh'), 'ca', otherCa]);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => {
    await c?.destroy();
    if (otherCa) rmSync(otherCa, { recursive: true, force: true });
  });

  it('refuses a plain-TCP connection (sslmode=disable) on every node', async () => {
    for (const name of ['primary', 'standby', 'readonly']) {
      const r = await psql(dsn(name, 'sslmode=disable'));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/no pg_hba\.conf entry for host "127\.0\.0\.1".*no encryption/);
    }
  });

  it('admits verify-full against the cluster CA, and refuses a client that trusts another CA', async () => {
    const ok = await psql(dsn('primary', `sslmode=verify-full sslrootcert=${caFile(c.config)}`));
    expect(ok.stderr).toBe('');
    expect(ok.stdout.trim()).toBe('t');
    const wrong = await psql(dsn('primary', `sslmode=verify-full sslrootcert=${otherCa}/ca.crt`));
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/certificate verify failed/);
    // The write endpoint: TLS from clients is required, and PgBouncer's own session to the primary is TLS too.
    const endpoint = (extra: string) => psql(`host=127.0.0.1 port=${c.config.WRITE_ENDPOINT_PORT} user=${c.config.POSTGRES_ADMIN_USER} dbname=${c.config.PG_DATABASE} ${extra}`);
    expect((await endpoint('sslmode=disable')).stderr).toMatch(/SSL required/);
    const through = await endpoint(`sslmode=verify-full sslrootcert=${caFile(c.config)}`);
    expect(through.stderr).toBe('');
    expect(through.stdout.trim()).toBe('t');
    // node-postgres as the bot uses it: the same verdicts.
    const refused = new pg.Client({ ...adminClientConfig(c.config, node('primary')), ssl: { ca: readFileSync(`${otherCa}/ca.crt`, 'utf8'), rejectUnauthorized: true } });
    refused.on('error', () => undefined);
    await expect(refused.connect()).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  it('streams replication over TLS (pg_stat_ssl of each walsender on the primary)', async () => {
    const rows = await c.sql<{ application_name: string; ssl: boolean; version: string }>(
      'primary',
      "SELECT r.application_name, s.ssl, s.version FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE r.application_name IN ('standby', 'readonly') ORDER BY 1",
    );
    expect(rows.map((r) => [r.application_name, r.ssl])).toEqual([
      ['readonly', true],
      ['standby', true],
    ]);
    const [{ conninfo }] = await c.sql<{ conninfo: string }>('standby', "SELECT current_setting('primary_conninfo') AS conninfo");
    expect(conninfo).toMatch(/(^| )sslmode='?verify-full'?( |$)/);
    expect(conninfo).toContain(`sslrootcert='${caFile(c.config)}'`);
  });

  it('/cluster tls rotate: every node and the write endpoint present a new certificate; a client querying throughout sees 0 errors', async () => {
    const before = await presentedCertificate(c.config, node('primary'));
    const load = await new RotationLoad(c.config, node('primary')).start();
    const reply = await c.run('/cluster tls rotate');
    await load.waitMore(5);
    await load.stop();
    const { errors, serials } = load;

    expect(reply.severity, JSON.stringify(reply)).toBe('ok');
    expect(errors).toEqual([]);
    const rotated = (reply.data as { rotated: Array<{ node: string; before: string; after: string; error?: string }> }).rotated;
    expect(rotated.map((r) => r.node)).toEqual(['primary', 'standby', 'readonly', 'write endpoint']);
    for (const r of rotated) {
      expect(r.error).toBeUndefined();
      expect(r.after).not.toBe(r.before);
      expect(r.after).toBe(await certificateSerial(`${c.config.tlsDir}/${r.node === 'write endpoint' ? 'pgbouncer' : r.node}.crt`));
    }
    const after = await presentedCertificate(c.config, node('primary'));
    expect(after!.serial).not.toBe(before!.serial);
    expect(after!.serial).toBe(rotated[0].after);
    // The client saw both certificates: the rotation happened while it was connecting.
    expect(serials).toEqual(new Set([before!.serial, after!.serial]));
    // Replication reconnects only when it must; it is over TLS either way.
    await eventually('replicas streaming over TLS after the rotation', () =>
      c.sql<{ n: number }>('primary', 'SELECT count(*)::int AS n FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE s.ssl'), (rows) => rows[0].n >= 2);
  });

  it('/cluster status shows each certificate\'s expiry; one that expires within 14 days raises an alert', async () => {
    const status = await c.run('/cluster status');
    const line = status.fields!.find((f) => f.label === 'TLS certificates')!;
    const year = new Date(Date.now() + 364 * 86_400_000).toISOString().slice(0, 4);
    expect(line.value).toMatch(new RegExp(`primary ${year}-\\d\\d-\\d\\d \\(36[45] d\\), standby ${year}-\\d\\d-\\d\\d \\(36[45] d\\), readonly`));

    const rec = new RecordingAdapter();
    c.app.notifier.add(rec);
    await startMonitoring(c.app);
    await c.app.services.monitor.running!.settle();
    const mark = rec.mark();
    // A certificate that ends in 5 days, served after a reload, as a forgotten renewal would leave it.
    const standby = node('standby');
    await issueServerCertificate(c.config, 'standby', [standby.host, '127.0.0.1', 'localhost'], postgresOsUser(), 5);
    await c.sql('standby', 'SELECT pg_reload_conf()');
    await eventually('the standby presenting the short certificate', () => presentedCertificate(c.config, standby), (p) => p !== null && Date.parse(p.notAfter) - Date.now() < 6 * 86_400_000);
    await c.app.services.pools.reset(standby);
    const alert = await rec.waitFor(isAlert('post', 'cert_expiry:standby'), 'certificate expiry alert', { after: mark });
    expect(alert.reply.severity).toBe('warn');
    expect(alert.reply.title).toBe('TLS certificate of standby expires in 4 days');
    const shown = await c.run('/cluster status');
    expect(shown.fields!.find((f) => f.label === 'TLS certificates')!.value).toMatch(/standby \d{4}-\d\d-\d\d \(4 d\)/);
    // No alert for the nodes whose certificates run a year.
    expect(rec.events.filter((e) => isAlert('post', 'cert_expiry:primary')(e))).toEqual([]);
  });
});
