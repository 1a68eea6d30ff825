// /cluster reset on a real local cluster: every guard rail refused on its own, then the whole flow
// (a second admin types the code; fresh cluster; endpoint on the new primary; old backups listed and
// restorable; no alert storm; the audit trail survives), then a reset that purges the backups.
import { existsSync, readdirSync, statSync } from 'node:fs';
import pg from 'pg';
import { adminClientConfig } from '../../src/db/tls.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { currentHolder, withOperationLock } from '../../src/cluster/failover/lock.js';
import type { Monitor } from '../../src/monitor/monitor.js';
import { freePort, principal, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { watchAlerts, type RecordingAdapter } from '../helpers/recording-adapter.js';
import { askReset, auditLines, endpointOf, expectNoNodeAlerts, fieldOf as field, markOldCluster, oldTableThere as oldTable } from '../helpers/reset.js';
import { eventually, until } from '../helpers/wait.js';

const alice = principal('alice');
const bob = principal('bob');
const olga = principal('olga');

interface Outcome {
  node: string;
  action: string;
  replication?: string;
}
interface StatusData {
  primary: string | null;
  nodes: Array<{ name: string; role: string; up: boolean; streaming: boolean; timeline: number | null; archiver: { failing: boolean; lastArchivedWal: string | null } | null }>;
}


describe('/cluster reset on a real local cluster', () => {
  let c: TestCluster;
  let endpointPort: number;
  let rec: RecordingAdapter;
  let monitor: Monitor;
  let fullId = '';
  const status = async () => (await c.run('/cluster status')).data as StatusData;
  const audit = () => auditLines(c.home);
  const ask = async (text: string, who = alice) => {
    const r = await askReset(c, text, who);
    return { card: r.card, data: r };
  };
  const oldTableThere = () => oldTable(c);

  beforeAll(async () => {
    endpointPort = await freePort();
    c = await startTestCluster({
      env: { RESET_ENABLED: 'true', WRITE_ENDPOINT: 'true', WRITE_ENDPOINT_PORT: String(endpointPort), MONITOR_INTERVAL_SECONDS: '0.2', HEALTH_REPORT_CRON: 'off', BACKUP_SCHEDULES: 'false' },
    });
    const up = await c.run('/cluster up'); // starts the write endpoint
    expect(up.text).toMatch(/Write endpoint: .* → primary/);
    await markOldCluster(c);
    ({ rec, monitor } = await watchAlerts(c.app));
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('is off unless RESET_ENABLED=true: the refusal names the setting (Patroni\'s answer: test/unit/backend-commands.test.ts)', async () => {
    const off = await createApp(loadConfig({ ...c.env, RESET_ENABLED: 'false' }));
    try {
      const r = await off.router.handle('/cluster reset', alice, { platform: 'shell', channel: 'test' });
      expect(r.failed).toBe(true);
      expect(r.text).toMatch(/^\/cluster reset is turned off on this cluster \(RESET_ENABLED=false\) — .*RESET_ENABLED=true/);
    } finally {
      await off.close();
    }
    expect(await oldTableThere()).toBe(true);
  });

  it('the card names every node with its data size and the newest backup with its verification; a code, no Confirm button', async () => {
    expect((await c.run('/cluster reset', olga)).text).toMatch(/olga is an operator; \/cluster reset needs admin/);
    const b = await c.run('/cluster backup full', olga);
    expect(b.failed, b.text).toBeFalsy();
    fullId = (b.data as { backup: { id: string } }).backup.id;
    const { card, data } = await ask('/cluster reset');
    const destroyed = field(card, /^Will be destroyed/);
    for (const [name, role] of [['primary', 'primary'], ['standby', 'replica'], ['readonly', 'replica']]) {
      expect(destroyed).toMatch(new RegExp(`${name} \\(127\\.0\\.0\\.1:${c.app.services.node(name).port}, ${role}\\): [\\d.]+ MB`));
    }
    expect(data.nodes.every((n) => (n.bytes ?? 0) > 1_000_000)).toBe(true);
    expect(field(card, /^Newest backup$/)).toMatch(new RegExp(`^${fullId}, finished .* UTC, verified ✓$`));
    expect(card.fields?.some((f) => /PURGED/.test(f.label))).toBe(false);
    expect(card.text).toMatch(/Backups \(1\) and the WAL archive are kept/);
    expect(data.code).toMatch(/^[A-Z2-9]{3}-[A-Z2-9]{3}$/);
    expect(field(card, /^To confirm$/)).toBe(`another admin (not alice) types here: /cluster reset confirm ${data.code}`);
    expect(card.buttons?.map((x) => x.label)).toEqual(['Cancel']);
    expect((await c.press(card.buttons![0].actionId, alice)).title).toMatch(/^Cancelled/);
  });

  it('refuses the requester\'s own code, a Confirm click, a wrong code, another channel, an operator and a cancelled card; nothing changes', async () => {
    const { card, data } = await ask('/cluster reset');
    const code = data.code;
    const own = await c.run(`/cluster reset confirm ${code}`, alice);
    expect(own.text).toMatch(/needs a second admin: alice asked for it, so another admin must type the code \(always, whatever REQUIRE_SECOND_APPROVER says\)/);
    expect((await c.press(`cb:confirm:${data.pendingAction}`, bob)).text).toMatch(/is confirmed by typing, not by a button/);
    expect((await c.run('/cluster reset confirm ZZZ-ZZZ', bob)).text).toMatch(/^no pending \/cluster reset has the code "ZZZ-ZZZ"/);
    expect((await c.run(`/cluster reset confirm ${code}`, bob, { channel: 'elsewhere' })).text).toMatch(/this code belongs to another channel/);
    expect((await c.run(`/cluster reset confirm ${code}`, olga)).text).toMatch(/needs admin/);
    expect((await c.run('/cluster reset confirm', bob)).text).toMatch(/reset confirm needs the code shown on the reset card/);
    expect((await c.press(card.buttons![0].actionId, alice)).title).toMatch(/^Cancelled/);
    expect((await c.run(`/cluster reset confirm ${code}`, bob)).text).toMatch(/already cancelled by alice/);
    expect(await oldTableThere()).toBe(true);
    const refusals = audit().filter((e) => e.kind === 'refusal' && e.command === 'reset').map((e) => `${e.user} ${e.outcome}`);
    expect(refusals).toEqual(expect.arrayContaining(['alice forbidden', 'bob unknown code', 'bob foreign channel', 'bob stale confirmation']));
  });

  it('is refused while another operation or a backup runs, also when confirmed during it', async () => {
    const { data } = await ask('/cluster reset');
    await withOperationLock(c.home, 'switchover', 'carol', async () => {
      expect((await c.run('/cluster reset', alice)).text).toMatch(/^switchover is already in progress, started by carol/);
      expect((await c.run(`/cluster reset confirm ${data.code}`, bob)).text).toMatch(/^switchover is already in progress, started by carol/);
    });
    const service = c.app.services.backups;
    const backup = c.run('/cluster backup full', olga);
    await until('the backup to hold the backup lock', async () => service.runningNow(), 60_000, 20);
    expect((await c.run('/cluster reset', alice)).text).toMatch(/^a full backup is in progress — wait for it to finish/);
    expect((await backup).failed).toBeFalsy();
    expect(await oldTableThere()).toBe(true);
  });

  it('a second admin types the code: fresh cluster, endpoint on the new primary, old backups kept and restorable, no alert storm, audit kept', async () => {
    const mark = rec.mark();
    const linesBefore = audit().length;
    const { data } = await ask('/cluster reset');
    const running = c.run(`/cluster reset confirm ${data.code.toLowerCase().replace('-', '')}`, bob);
    await until('the reset to hold the operation lock', async () => currentHolder(c.home)?.op === 'reset', 60_000, 20);
    expect((await c.run('/cluster failover', alice)).text).toMatch(/^reset is already in progress, started by bob/);
    expect((await c.run('/cluster backup full', olga)).text).toMatch(/a cluster reset is already in progress/);
    const done = await running;
    expect(done.failed, done.text).toBeFalsy();
    expect(done.title).toBe('Cluster reset: done');
    console.info(`[reset local] confirm → fresh cluster with both replicas streaming: ${(done.data as { ms: number }).ms} ms`);
    const outcomes = (done.data as { outcomes: Outcome[] }).outcomes;
    expect(outcomes.map((o) => [o.node, o.action])).toEqual([['primary', 'initialised'], ['standby', 'cloned'], ['readonly', 'cloned']]);
    for (const o of outcomes.slice(1)) expect(o.replication).toMatch(/^streaming from primary after \d+ ms$/);
    expect(done.text).toMatch(/^Deleted the data of primary, standby, readonly\.$/m);
    expect(done.text).toMatch(/^Kept 2 backups in the pgBackRest repository; the fresh cluster joins the stanza as a new database \(stanza-upgrade\), so/m);
    expect(done.context).toMatch(/^Requested by alice, confirmed by bob;/);

    // A fresh cluster: the old table is gone, the seed rows are back, everything on timeline 1.
    const s = await status();
    expect(s.primary).toBe('primary');
    expect(s.nodes.filter((n) => n.streaming).map((n) => n.name).sort()).toEqual(['readonly', 'standby']);
    expect(s.nodes.every((n) => n.up && n.timeline === 1)).toBe(true);
    expect(await oldTableThere()).toBe(false);
    expect((await c.sql<{ n: number }>('primary', 'SELECT count(*)::int AS n FROM proyecto.usuarios'))[0].n).toBe(5);

    // The write endpoint reaches the new primary.
    expect(endpointOf(await c.run('/cluster status'))).toBe(`127.0.0.1:${endpointPort} → primary`);
    const client = new pg.Client(adminClientConfig(c.config, { host: '127.0.0.1', port: endpointPort }));
    await client.connect();
    try {
      const via = await eventually('a write through the endpoint', async () => (await client.query("INSERT INTO proyecto.usuarios (nombre, email) VALUES ('nuevo', 'n@example.com') RETURNING inet_server_port() AS port")).rows[0] as { port: number }, Boolean);
      expect(via.port).toBe(c.app.services.node('primary').port);
    } finally {
      await client.end();
    }

    // The fresh cluster archives as the stanza's second database (the old segment names would have clashed).
    const [{ seg }] = await c.sql<{ seg: string }>('primary', 'SELECT pg_walfile_name(pg_switch_wal()) AS seg');
    const dir = `${c.config.walArchiveDir}/archive/clusterbot/15-2/${seg.slice(0, 16)}`;
    await until(`${seg} archived`, async () => existsSync(dir) && readdirSync(dir).some((f) => f.startsWith(`${seg}-`) && f.endsWith('.zst')), 60_000, 100);

    // The old backups: still listed, still restorable (with their own database's WAL: 7 usuarios).
    const list = await c.run('/cluster backups');
    expect((list.data as { backups: Array<{ id: string }> }).backups.map((b) => b.id)).toContain(fullId);
    expect(list.tables?.[0].rows.find((r) => r[0] === fullId)?.[3]).toMatch(/^(standby|readonly) \(before reset\)$/);
    const rc = await c.run(`/cluster restore-check ${fullId}`, olga);
    expect(rc.failed, rc.text).toBeFalsy();
    expect((rc.data as { usuarios: number }).usuarios).toBe(7);

    // No alert storm: after two more monitor loops, nothing about the nodes was posted.
    await expectNoNodeAlerts(rec, monitor, mark);
    expect((await status()).nodes.find((n) => n.name === 'primary')!.archiver?.failing).toBe(false);

    // The audit trail survived: every earlier line is still there, the reset names who asked and who confirmed,
    // and the trail is copied again into the fresh cluster's logs_replicacion.
    const after = audit();
    expect(after.length).toBeGreaterThan(linesBefore);
    const event = after.find((e) => e.kind === 'event' && e.command === 'reset' && e.outcome === 'done');
    expect(event?.detail).toMatchObject({ requestedBy: 'alice', confirmedBy: 'bob', purgeBackups: false });
    const firstId = after[0].id;
    await eventually('the audit trail re-mirrored into the fresh cluster', async () => (await c.sql<{ n: number }>('primary', 'SELECT count(*)::int AS n FROM proyecto.logs_replicacion WHERE audit_id = $1', [firstId]))[0].n, (n) => n === 1);
  });

  it('reset purge-backups says so on a third line, and deletes every backup and archive', async () => {
    const { card, data } = await ask('/cluster reset purge-backups', bob);
    expect(field(card, /^Backups: PURGED TOO \(purge-backups\)$/)).toMatch(/^all 2 backups \([\d.]+ MB\) and the WAL archive are deleted as well/);
    expect(card.text).not.toMatch(/kept/);
    const t0 = Date.now();
    const done = await c.run(`/cluster reset confirm ${data.code}`, alice);
    expect(done.failed, done.text).toBeFalsy();
    expect(done.text).toMatch(/^Purged \(purge-backups\): 2 backups and the WAL archive, [\d.]+ MB\./m);
    expect(((await c.run('/cluster backups')).data as { backups: unknown[] }).backups).toEqual([]);
    // What the repository holds now is the fresh cluster's own stanza (one database) and WAL, written after the purge.
    const archive = `${c.config.walArchiveDir}/archive/clusterbot`;
    expect(readdirSync(archive).filter((d) => /^15-\d+$/.test(d))).toEqual(['15-1']);
    const old = readdirSync(`${archive}/15-1`, { recursive: true }).map(String).filter((f) => statSync(`${archive}/15-1/${f}`).mtimeMs < t0 - 1000);
    expect(old).toEqual([]);
    const s = await status();
    expect(s.primary).toBe('primary');
    expect(s.nodes.filter((n) => n.streaming)).toHaveLength(2);
  });
});
