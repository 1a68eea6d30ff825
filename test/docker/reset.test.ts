// /cluster reset with RUNTIME=docker on the compose stack (with the pgbouncer endpoint): every refusal,
// then a second admin types the code: the node containers and their data volumes go (as
// `docker-compose down -v` would, the backups and fence folders stay), a fresh cluster comes up,
// the endpoint reaches it, the old backups are listed and restorable, no alert storm, audit kept.
import { existsSync, readdirSync } from 'node:fs';
import pg from 'pg';
import { adminClientConfig } from '../../src/db/tls.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { currentHolder, withOperationLock } from '../../src/cluster/failover/lock.js';
import type { Monitor } from '../../src/monitor/monitor.js';
import { principal } from '../helpers/cluster.js';
import { newDockerCluster, sh, twoStreamingReplicas, until, type DockerCluster } from '../helpers/docker.js';
import { watchAlerts, type RecordingAdapter } from '../helpers/recording-adapter.js';
import { askReset, auditLines, endpointOf, expectNoNodeAlerts, fieldOf as field, markOldCluster, oldTableThere as oldTable } from '../helpers/reset.js';
import { eventually } from '../helpers/wait.js';

const alice = principal('alice');
const bob = principal('bob');
const olga = principal('olga');

describe('/cluster reset with RUNTIME=docker (compose stack with the write endpoint)', () => {
  let c: DockerCluster;
  let rec: RecordingAdapter;
  let monitor: Monitor;
  let fullId = '';
  const volumes = async () => (await sh('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${c.project}`])).stdout.split('\n').filter(Boolean).sort();
  const volumeCreated = async (name: string) => (await sh('docker', ['volume', 'inspect', '--format', '{{.CreatedAt}}', name])).stdout.trim();
  const oldTableThere = () => oldTable(c);
  const ask = async (text: string, who = alice) => {
    const r = await askReset(c, text, who);
    return { card: r.card, code: r.code, id: r.pendingAction };
  };

  beforeAll(async () => {
    c = await newDockerCluster('reset', { env: { ADMINS: 'alice,bob', RESET_ENABLED: 'true', MONITOR_INTERVAL_SECONDS: '0.5', HEALTH_REPORT_CRON: 'off', BACKUP_SCHEDULES: 'false' } });
    await c.compose('--profile', 'endpoint', 'up', '-d');
    await twoStreamingReplicas(c);
    await markOldCluster(c);
    ({ rec, monitor } = await watchAlerts(c.app));
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('refuses: turned off (naming RESET_ENABLED), an operator, the requester\'s own code, a click, a wrong code, another channel, a busy cluster', async () => {
    const off = await createApp(loadConfig({ ...c.env, RESET_ENABLED: 'false' }));
    try {
      expect((await off.router.handle('/cluster reset', alice, { platform: 'shell', channel: 'test' })).text).toMatch(/^\/cluster reset is turned off on this cluster \(RESET_ENABLED=false\)/);
    } finally {
      await off.close();
    }
    expect((await c.run('/cluster reset', olga)).text).toMatch(/needs admin/);
    const b = await c.run('/cluster backup full', olga);
    expect(b.failed, b.text).toBeFalsy();
    fullId = (b.data as { backup: { id: string } }).backup.id;
    const { card, code, id } = await ask('/cluster reset');
    expect(field(card, /^Will be destroyed/)).toMatch(/^primary \(127\.0\.0\.1:\d+, primary\): [\d.]+ MB\nstandby \(127\.0\.0\.1:\d+, replica\): [\d.]+ MB\nreadonly/);
    expect(field(card, /^Newest backup$/)).toMatch(new RegExp(`^${fullId}, finished .* UTC, verified ✓$`));
    expect(card.buttons?.map((x) => x.label)).toEqual(['Cancel']);
    expect((await c.run(`/cluster reset confirm ${code}`, alice)).text).toMatch(/needs a second admin: alice asked for it/);
    expect((await c.press(`cb:confirm:${id}`, bob)).text).toMatch(/is confirmed by typing, not by a button/);
    expect((await c.run('/cluster reset confirm ZZZ-ZZZ', bob)).text).toMatch(/^no pending \/cluster reset has the code/);
    expect((await c.run(`/cluster reset confirm ${code}`, bob, { channel: 'elsewhere' })).text).toMatch(/this code belongs to another channel/);
    await withOperationLock(c.home, 'failover', 'carol', async () => {
      expect((await c.run(`/cluster reset confirm ${code}`, bob)).text).toMatch(/^failover is already in progress, started by carol/);
    });
    const service = c.app.services.backups;
    const backup = c.run('/cluster backup full', olga);
    await until('the backup to hold the backup lock', async () => service.runningNow(), 60_000, 20);
    expect((await c.run('/cluster reset', alice)).text).toMatch(/^a full backup is in progress/);
    expect((await backup).failed).toBeFalsy();
    expect(await oldTableThere()).toBe(true);
  });

  it('a second admin types the code: volumes re-created, fresh cluster, endpoint on it, old backups restorable, no alert storm, audit kept', async () => {
    const before = await volumes();
    const dataVolumes = before.filter((v) => /postgresql-(primary|standby|readonly)-data$/.test(v));
    expect(dataVolumes).toHaveLength(3);
    const created = await Promise.all(dataVolumes.map(volumeCreated));
    const mark = rec.mark();
    const { code } = await ask('/cluster reset');
    const running = c.run(`/cluster reset confirm ${code}`, bob);
    await until('the reset to hold the operation lock', async () => currentHolder(c.home)?.op === 'reset', 60_000, 20);
    expect((await c.run('/cluster switchover', alice)).text).toMatch(/^reset is already in progress, started by bob/);
    const done = await running;
    expect(done.failed, done.text).toBeFalsy();
    expect(done.title).toBe('Cluster reset: done');
    console.info(`[reset docker] confirm → fresh cluster with both replicas streaming: ${(done.data as { ms: number }).ms} ms`);
    expect((done.data as { outcomes: Array<{ node: string; action: string }> }).outcomes.map((o) => [o.node, o.action])).toEqual([['primary', 'initialised'], ['standby', 'cloned'], ['readonly', 'cloned']]);
    expect(done.text).toMatch(/^Kept 2 backups in the pgBackRest repository; the fresh cluster joins the stanza as a new database \(stanza-upgrade\)/m);
    expect(done.context).toMatch(/^Requested by alice, confirmed by bob;/);

    // Same names, new volumes: the data of the old nodes is gone; the backups and fence binds stay.
    expect(await volumes()).toEqual(expect.arrayContaining(dataVolumes));
    const recreated = await Promise.all(dataVolumes.map(volumeCreated));
    recreated.forEach((t, i) => expect(t, dataVolumes[i]).not.toBe(created[i]));
    const binds = before.filter((v) => /postgresql-(backups|fence)$/.test(v));
    expect(binds).toHaveLength(2);
    expect(await volumes()).toEqual(expect.arrayContaining(binds));
    await twoStreamingReplicas(c);
    expect(await oldTableThere()).toBe(false);
    expect((await c.sql<{ n: number }>('primary', 'SELECT count(*)::int AS n FROM proyecto.usuarios'))[0].n).toBe(5);

    // The endpoint (the compose pgbouncer service) reaches the fresh primary.
    const port = c.config.WRITE_ENDPOINT_PORT;
    expect(endpointOf(await c.run('/cluster status'))).toBe(`127.0.0.1:${port} → primary`);
    await eventually('a write through the endpoint into the fresh cluster', async () => {
      const client = new pg.Client(adminClientConfig(c.config, { host: '127.0.0.1', port }, { connectionTimeoutMillis: 3000 }));
      await client.connect();
      try {
        return (await client.query("INSERT INTO proyecto.usuarios (nombre, email) VALUES ('nuevo', 'n@example.com') ON CONFLICT DO NOTHING RETURNING 1 AS one")).rowCount;
      } finally {
        await client.end();
      }
    }, (n) => n === 1, { timeoutMs: 60_000, everyMs: 500 });
    expect(await oldTableThere()).toBe(false);

    // The fresh cluster archives as the stanza's second database; the old backups restore from the first.
    const [{ seg }] = await c.sql<{ seg: string }>('primary', 'SELECT pg_walfile_name(pg_switch_wal()) AS seg');
    const dir = `${c.config.walArchiveDir}/archive/clusterbot/15-2/${seg.slice(0, 16)}`;
    await until(`${seg} archived`, async () => existsSync(dir) && readdirSync(dir).some((f) => f.startsWith(`${seg}-`) && f.endsWith('.zst')), 60_000, 200);
    expect(((await c.run('/cluster backups')).data as { backups: Array<{ id: string }> }).backups.map((x) => x.id)).toContain(fullId);
    const rc = await c.run(`/cluster restore-check ${fullId}`, olga);
    expect(rc.failed, rc.text).toBeFalsy();
    expect((rc.data as { usuarios: number }).usuarios).toBe(7);

    await expectNoNodeAlerts(rec, monitor, mark);

    const audit = auditLines(c.home);
    expect(audit.find((e) => e.command === 'reset' && e.kind === 'event' && e.outcome === 'done')?.detail).toMatchObject({ requestedBy: 'alice', confirmedBy: 'bob' });
    await eventually('the audit trail re-mirrored into the fresh cluster', async () => (await c.sql<{ n: number }>('primary', 'SELECT count(*)::int AS n FROM proyecto.logs_replicacion WHERE audit_id = $1', [audit[0].id]))[0].n, (n) => n === 1, { timeoutMs: 30_000 });
  });

  it('reset purge-backups: a third line on the card, then no backup and no old archive left', async () => {
    const { card, code } = await ask('/cluster reset purge-backups', bob);
    expect(field(card, /^Backups: PURGED TOO \(purge-backups\)$/)).toMatch(/^all 2 backups/);
    const done = await c.run(`/cluster reset confirm ${code}`, alice);
    expect(done.failed, done.text).toBeFalsy();
    expect(done.text).toMatch(/^Purged \(purge-backups\): 2 backups/m);
    expect(((await c.run('/cluster backups')).data as { backups: unknown[] }).backups).toEqual([]);
    expect(readdirSync(`${c.config.walArchiveDir}/archive/clusterbot`).filter((d) => /^15-\d+$/.test(d))).toEqual(['15-1']);
    await twoStreamingReplicas(c);
  });
});
