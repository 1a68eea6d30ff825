// TLS on the Docker runtime: docker-compose up makes the cluster CA in TLS_DIR (bound at /tls) and each
// node its certificate; plain TCP through a published port is refused, verify-full from the host works,
// replication streams over TLS, the PgBouncer endpoint speaks TLS to clients and verify-full to the
// primary, HAProxy's health check keeps replicas in the read pool, and /cluster tls rotate gives every
// container a new certificate without an error for a client querying throughout.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newDockerCluster, sh, until, type DockerCluster } from '../helpers/docker.js';
import { eventually } from '../helpers/wait.js';
import { RotationLoad } from '../helpers/tls-load.js';
import { caFile, presentedCertificate } from '../../src/db/tls.js';
import { findPgBin } from '../../src/runtime/pg-binaries.js';
import { runProgram } from '../../src/runtime/process.js';

describe('TLS on a real Docker engine (compose)', () => {
  let c: DockerCluster;
  const psql = (port: number, extra: string, sql = 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()') =>
    runProgram(`${findPgBin(process.env.PG_BIN)}/psql`, ['-X', '-At', '-d', `host=127.0.0.1 port=${port} user=${c.config.POSTGRES_ADMIN_USER} dbname=${c.config.PG_DATABASE} ${extra}`, '-c', sql], {
      env: { PGPASSWORD: c.config.POSTGRES_ADMIN_PASSWORD, PGCONNECT_TIMEOUT: '5' },
    });
  const verifyFull = () => `sslmode=verify-full sslrootcert=${caFile(c.config)}`;

  beforeAll(async () => {
    c = await newDockerCluster('tls');
    await c.compose('--profile', 'endpoint', 'up', '-d');
    await until('one primary and two streaming replicas', async () => {
      const s = await c.app.services.snapshot();
      return s.primary === 'primary' && s.nodes.filter((n) => n.role === 'replica' && n.streaming).length === 2;
    });
  });
  afterAll(async () => c?.destroy());

  it('the first node made the CA in TLS_DIR; every node serves a certificate from it naming its service and loopback', async () => {
    expect(readFileSync(caFile(c.config), 'utf8')).toContain('BEGIN CERTIFICATE');
    for (const n of ['primary', 'standby', 'readonly']) {
      const text = (await sh('openssl', ['x509', '-in', `${c.config.tlsDir}/${n}.crt`, '-noout', '-ext', 'subjectAltName'])).stdout;
      expect(text).toContain(`DNS:postgresql-${n}, DNS:localhost, IP Address:127.0.0.1`);
      expect((await sh('openssl', ['verify', '-CAfile', caFile(c.config), `${c.config.tlsDir}/${n}.crt`])).stdout).toContain(': OK');
    }
  });

  it('refuses plain TCP through a published port, admits verify-full from the host', async () => {
    for (const n of c.config.nodes) {
      const plain = await psql(n.port, 'sslmode=disable');
      expect(plain.code).not.toBe(0);
      expect(plain.stderr).toMatch(/no pg_hba\.conf entry for host .*no encryption/);
      const ok = await psql(n.port, verifyFull());
      expect(ok.stderr).toBe('');
      expect(ok.stdout.trim()).toBe('t');
    }
  });

  it('streams replication over TLS with verify-full (pg_stat_ssl of the walsenders)', async () => {
    const rows = await c.sql<{ application_name: string; ssl: boolean }>('primary', "SELECT r.application_name, s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE r.application_name IN ('standby', 'readonly') ORDER BY 1");
    expect(rows.map((r) => [r.application_name, r.ssl])).toEqual([['readonly', true], ['standby', true]]);
    const [{ conninfo }] = await c.sql<{ conninfo: string }>('standby', "SELECT current_setting('primary_conninfo') AS conninfo");
    expect(conninfo).toMatch(/sslmode='?verify-full'?/);
  });

  it('the write endpoint: TLS required from clients, verify-full to the primary; the read endpoint checks still pass', async () => {
    const through = await psql(c.config.WRITE_ENDPOINT_PORT, verifyFull());
    expect(through.stderr).toBe('');
    // pg_stat_ssl of PgBouncer's own server connection on the primary.
    expect(through.stdout.trim()).toBe('t');
    const plain = await psql(c.config.WRITE_ENDPOINT_PORT, 'sslmode=disable');
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toMatch(/SSL required/);
    // HAProxy's SSLRequest check keeps the replicas up: a verify-full session lands on a replica.
    const read = await eventually('a verify-full read session through HAProxy', () => psql(c.config.READ_ENDPOINT_PORT, verifyFull(), 'SELECT pg_is_in_recovery()'), (r) => r.code === 0, { timeoutMs: 60_000, everyMs: 500 });
    expect(read.stdout.trim()).toBe('t');
  });

  it('/cluster tls rotate: every container presents a new certificate; a client querying throughout sees 0 errors', async () => {
    const primary = c.app.services.node('primary');
    const before = await presentedCertificate(c.config, primary);
    const load = await new RotationLoad(c.config, primary).start();
    const reply = await c.run('/cluster tls rotate');
    await load.waitMore(5);
    await load.stop();
    const { errors } = load;
    expect(reply.severity, JSON.stringify(reply.data)).toBe('ok');
    expect(errors).toEqual([]);
    const after = await presentedCertificate(c.config, primary);
    expect(after!.serial).not.toBe(before!.serial);
    const fileSerial = (await sh('openssl', ['x509', '-in', `${c.config.tlsDir}/primary.crt`, '-noout', '-serial'])).stdout.trim().replace('serial=', '');
    expect(after!.serial).toBe(fileSerial);
  });
});
