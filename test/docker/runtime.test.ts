// The docker runtime without compose: /cluster up creates network, volumes and containers itself;
// then the pieces failover and backups use, on real containers: exec with streamed output and
// stdin, kill/start with Docker events, fence of a stopped node, pg_rewind of a diverged old
// primary, re-pointing a replica with replicationConninfo.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeEvent } from '../../src/runtime/runtime.js';
import { newDockerCluster, sh, until, type DockerCluster } from '../helpers/docker.js';

const PSQL = ['-X', '-At', '-h', '/var/run/postgresql', '-U', 'postgres', '-d', 'postgres'];

describe('the docker runtime on containers it creates itself', () => {
  let c: DockerCluster;
  const events: RuntimeEvent[] = [];
  let unwatch: () => void = () => undefined;
  const node = (n: string) => c.app.services.node(n);

  beforeAll(async () => {
    c = await newDockerCluster('rt');
    unwatch = c.runtime.watch((e) => events.push(e));
  });
  afterAll(async () => {
    unwatch();
    await c?.destroy();
  });

  it('/cluster up creates the network, volumes and containers with compose labels, and streams', async () => {
    const t0 = performance.now();
    const up = await c.run('/cluster up');
    expect(up.failed, up.text).toBeFalsy();
    console.info(`[docker] /cluster up (no compose) → 3 nodes: ${Math.round(performance.now() - t0)} ms`);
    const snap = await until('two streaming replicas', async () => {
      const s = await c.app.services.snapshot();
      return s.primary === 'primary' && s.nodes.filter((n) => n.streaming).length === 2 ? s : null;
    }, 60_000);
    expect(snap.writable).toEqual(['primary']);
    const labels = (await sh('docker', ['inspect', '--format', '{{index .Config.Labels "com.docker.compose.service"}} {{index .Config.Labels "com.docker.compose.project"}}', await c.container('standby')])).stdout.trim();
    expect(labels).toBe(`postgresql-standby ${c.project}`);
    const vols = (await sh('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${c.project}`])).stdout.split('\n').filter(Boolean).sort();
    // The fence directory (DOCKER_FENCE_DIR) is a bind volume like the backups, mounted read-only in the
    // nodes; so is TLS_DIR (the cluster CA the first node makes, and each node's certificate).
    expect(vols).toEqual(['postgresql-backups', 'postgresql-fence', 'postgresql-primary-data', 'postgresql-readonly-data', 'postgresql-standby-data', 'postgresql-tls'].map((v) => `${c.project}_${v}`));
    expect(readFileSync(`${c.config.tlsDir}/ca.crt`, 'utf8')).toContain('BEGIN CERTIFICATE');
    const [{ ssl }] = await c.sql<{ ssl: boolean }>('primary', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    expect(ssl).toBe(true);
    const subnet = (await sh('docker', ['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', `${c.project}_postgresql-network`])).stdout.trim();
    expect(subnet).toBe(c.config.DOCKER_SUBNET);
    // Up again is idempotent: nothing re-initialised.
    const again = await c.run('/cluster up');
    expect((again.data as { outcomes?: Array<{ action: string }> } | undefined)?.outcomes?.every((o) => o.action === 'already running') ?? true).toBe(true);
  });

  it('runs PostgreSQL tools inside the container with output streamed and stdin', async () => {
    const sum = await c.runtime.exec(node('primary'), 'psql', [...PSQL, '-f', '-'], { stdin: 'SELECT 40 + 2;\n' });
    expect(sum).toMatchObject({ code: 0, stdout: '42\n' });
    const chunks: string[] = [];
    const bb = await c.runtime.exec(node('standby'), 'pg_basebackup', ['-D', '/tmp/bb', '-d', `host=postgresql-standby port=5432 user=replicator passfile=/var/lib/postgresql/data/pgpass`, '--checkpoint=fast', '--progress', '--verbose', '--wal-method=stream'], { onOutput: (s) => chunks.push(s), timeoutMs: 120_000 });
    expect(bb.code, bb.stderr).toBe(0);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join('')).toMatch(/base backup completed/);
    const verify = await c.runtime.exec(node('standby'), 'pg_verifybackup', ['/tmp/bb']);
    expect(verify.stdout).toMatch(/backup successfully verified/);
    const bad = await c.runtime.exec(node('standby'), 'psql', [...PSQL, '-c', 'SELECT nosuchcolumn']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/does not exist/);
  });

  it('reports kill, stop and start as Docker events (expected or not)', async () => {
    const readonly = node('readonly');
    events.length = 0;
    await c.runtime.kill(readonly);
    expect(await c.runtime.isRunning(readonly)).toBe(false);
    await until('a die event', async () => events.find((e) => e.type === 'exit' && e.node === 'readonly'), 30_000, 100);
    expect(events.find((e) => e.type === 'exit')).toMatchObject({ node: 'readonly', expected: false });
    // Killed with docker kill: the restart policy leaves it down.
    expect(await c.runtime.isRunning(readonly)).toBe(false);
    await c.runtime.start(readonly);
    await until('a start event', async () => events.find((e) => e.type === 'start' && e.node === 'readonly'), 30_000, 100);
    events.length = 0;
    await c.runtime.stop(readonly, 'fast');
    await until('an expected exit', async () => events.find((e) => e.type === 'exit'), 30_000, 100);
    expect(events.find((e) => e.type === 'exit')).toMatchObject({ node: 'readonly', expected: true });
    const start = await c.run('/cluster start readonly');
    expect(start.failed, start.text).toBeFalsy();
    expect(start.text).toMatch(/streaming from primary/);
  });

  it('failover pieces: kill, promote, fence the dead primary, docker start keeps one writer, rewind, follow', async () => {
    const [primary, standby, readonly] = ['primary', 'standby', 'readonly'].map(node);
    // Diverge: the standby is promoted while the old primary still takes a write of its own.
    // The readonly is stopped first, so that it cannot receive the old primary's divergent WAL.
    await c.sql('primary', 'CREATE TABLE IF NOT EXISTS proyecto.t (v int)');
    await until('standby has the table', async () => (await c.sql<{ n: number }>('standby', "SELECT count(*)::int AS n FROM pg_class WHERE relname = 't'"))[0].n === 1, 30_000, 200);
    await c.runtime.stop(readonly);
    await c.sql('standby', 'SELECT pg_promote(true)');
    // pg_rewind reads the source's timeline from its last checkpoint: a newly promoted source needs
    // one first (pg_rewind's documentation; the failover procedure does the same). Without it, a slow
    // post-promotion checkpoint makes pg_rewind say "same timeline, no rewind required".
    await c.sql('standby', 'CHECKPOINT');
    await c.sql('primary', 'INSERT INTO proyecto.t SELECT generate_series(1, 1000)');
    await c.sql('primary', 'CHECKPOINT');
    await c.runtime.kill(primary);
    await c.app.services.pools.reset(primary);
    // The dead primary is fenced (a marker in the fence directory it mounts; no container started).
    await c.runtime.fence(primary, 'failover to standby');
    expect(await c.runtime.isFenced(primary)).toBe(true);
    // docker start by hand (not through clusterbot): it comes back read-only.
    await sh('docker', ['start', await c.container('primary')]);
    const one = await until('both nodes answering', async () => {
      const s = await c.app.services.snapshot();
      return s.nodes.find((n) => n.name === 'primary')!.up ? s : null;
    }, 120_000);
    expect(one.writable).toEqual(['standby']);
    expect(one.nodes.find((n) => n.name === 'primary')).toMatchObject({ role: 'replica', fenced: true });
    await expect(c.sql('primary', 'INSERT INTO proyecto.t VALUES (1)')).rejects.toThrow(/read-only/);
    // Rejoin: stop, pg_rewind from the new primary, start as its replica, unfence.
    await c.runtime.stop(primary);
    await c.app.services.pools.reset(primary);
    // The readonly follows the new primary: rewind (nothing to undo here) configures it as a replica.
    await c.runtime.rewind(readonly, standby);
    await c.runtime.start(readonly);
    const shown = await c.sql<{ primary_conninfo: string }>('readonly', 'SHOW primary_conninfo');
    expect(shown[0].primary_conninfo).toBe(c.runtime.replicationConninfo(standby, readonly));
    let progress = '';
    await c.runtime.rewind(primary, standby, { onOutput: (s) => (progress += s) });
    expect(progress.replace(/\n/g, ' | ')).toMatch(/rewinding from last common checkpoint[\s\S]*pg_rewind: Done!/);
    await c.runtime.start(primary);
    await c.runtime.unfence(primary);
    const after = await until('primary and readonly streaming from standby', async () => {
      const s = await c.app.services.snapshot();
      const ok = ['primary', 'readonly'].every((n) => {
        const x = s.nodes.find((y) => y.name === n)!;
        return x.streaming && x.upstream === 'standby';
      });
      return ok ? s : null;
    }, 120_000);
    expect(after.writable).toEqual(['standby']);
    expect(after.nodes.find((n) => n.name === 'primary')!.fenced).toBe(false);
    // The divergent rows of the old primary are gone: it follows the new timeline.
    const rows = await c.sql<{ n: number }>('primary', 'SELECT count(*)::int AS n FROM proyecto.t');
    expect(rows[0].n).toBe(0);
  }, 180_000);

  it('rewinds a replica that crashed (single-user crash recovery first) and leaves it following the source', async () => {
    const [standby, readonly] = ['standby', 'readonly'].map(node);
    await c.runtime.kill(readonly);
    await c.app.services.pools.reset(readonly);
    // Tools run on a stopped node too (a one-off container on its volumes), with PGDATA set.
    const control = await c.runtime.exec(readonly, 'pg_controldata', []);
    expect(control.code).toBe(0);
    expect(control.stdout).toMatch(/Database cluster state:\s+in archive recovery/);
    await c.runtime.rewind(readonly, standby);
    await c.runtime.start(readonly);
    await until('readonly streaming from standby again', async () => {
      const s = await c.app.services.snapshot();
      const r = s.nodes.find((n) => n.name === 'readonly')!;
      return r.streaming && r.upstream === 'standby';
    }, 60_000);
  });

  it('refuses to rewind a running node; a destroyed node is re-created by /cluster up from the current primary', async () => {
    await expect(c.runtime.rewind(node('primary'), node('standby'))).rejects.toThrow(/is running; pg_rewind needs it stopped/);
    await c.runtime.destroy(node('readonly'));
    const r = await c.run('/cluster start readonly');
    expect(r.failed).toBe(true);
    expect(r.text).toMatch(/has no container .* run \/cluster up/);
    // The re-clone path of rejoin: a fresh container cloned from the current primary.
    const up = await c.run('/cluster up');
    expect(up.failed, JSON.stringify(up.data)).toBeFalsy();
    await until('the re-cloned readonly streaming from standby', async () => {
      const s = await c.app.services.snapshot();
      const x = s.nodes.find((n) => n.name === 'readonly')!;
      return x.streaming && x.upstream === 'standby';
    }, 60_000);
  });
});
