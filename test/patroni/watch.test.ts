// The one monitor on the Patroni backend, on real etcd + Patroni + PostgreSQL on loopback: the
// watcher's own rules (a replica that falls behind — its WAL receiver frozen with SIGSTOP while the
// leader writes — and catches up again; Patroni's REST API unreachable from the bot and reachable
// again), the native rules over the Patroni snapshot (archiver, backup overdue, replay delay in
// seconds — the replica's startup process frozen with SIGSTOP — disk), /metrics and /healthz, the health report, and /cluster lag charting the samples.
import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenHttp } from '../../src/monitor/index.js';
import { startPatroniBot, type PatroniBot } from './app.js';
import { CuttableLink } from './cut-link.js';
import { startPatroniCluster, type PatroniHarness } from './harness.js';
import { within as until } from '../helpers/wait.js';

interface LagData {
  samples: number;
  source: string;
  series: Array<{ node: string; maxBytes: number; lastBytes: number | null; points: number }>;
  png: { path: string; bytes: number };
}


const MB = 1024 * 1024;

/** The bot's monitor as `clusterbot start` runs it on Patroni: the loop with the Patroni rules, /metrics and /healthz. */
async function monitored(b: PatroniBot): Promise<PatroniBot> {
  await b.app.services.monitor.start({ http: b.app.http });
  return b;
}

describe('the one monitor on a real etcd + Patroni cluster', () => {
  let h: PatroniHarness;
  let bot: PatroniBot;
  const bots: PatroniBot[] = [];
  const titles = (b: PatroniBot) => b.chat.posts.map((p) => p.reply.title).join(' | ');

  beforeAll(async () => {
    const t0 = Date.now();
    h = await startPatroniCluster({ ttl: 10, loopWait: 2, retryTimeout: 4 });
    // A 1 MB threshold, and a lag sample every second.
    bot = await startPatroniBot(h, { FAILOVER_MAX_LAG_BYTES: String(MB), LAG_BYTES_WARN: String(MB), MONITOR_INTERVAL_SECONDS: '1' });
    bots.push(bot);
    await monitored(bot);
    console.log(`[patroni-watch] etcd + 3 Patroni members up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  afterAll(async () => {
    for (const b of bots) await b.close().catch(() => undefined);
    await h?.destroy();
  });

  it('/cluster lag charts both replicas from the samples the monitor keeps', async () => {
    let last = '';
    const data = await until('three lag samples per replica', 30_000, async () => {
      const r = await bot.run('/cluster lag 10m');
      const d = r.data as LagData;
      last = `${r.title}: ${d?.samples} samples, ${JSON.stringify(d?.series?.map((s) => [s.node, s.points]))}`;
      return d.series.length === 2 && d.series.every((s) => s.points >= 3) && d;
    }, () => last);
    expect(data.series.map((s) => s.node).sort()).toEqual(['readonly', 'standby']);
    expect(data.source).toBe('monitor');
    expect(data.png.bytes).toBeGreaterThan(1000);
    expect(existsSync(data.png.path)).toBe(true);
  });

  it('posts a lag alert when a replica falls more than FAILOVER_MAX_LAG_BYTES behind (and the LAG_BYTES_WARN rule fires too), and "caught up" after', async () => {
    const [{ pid }] = await bot.sql<{ pid: number }>('readonly', 'SELECT pid FROM pg_stat_wal_receiver');
    expect(pid).toBeGreaterThan(0);
    await bot.sql('primary', 'CREATE TABLE proyecto.ballast (id int, pad text)');
    bot.chat.posts.length = 0;
    process.kill(pid, 'SIGSTOP');
    try {
      // About 8 MB of WAL the frozen receiver does not get.
      await bot.sql('primary', "INSERT INTO proyecto.ballast SELECT g, repeat('x', 600) FROM generate_series(1, 10000) g");
      const alert = await until('the lag alert for readonly', 30_000, async () => bot.chat.posts.find((p) => /^readonly is .+ behind the leader$/.test(p.reply.title)), () => titles(bot));
      console.log(`[patroni-watch] ${alert.reply.title}: ${alert.reply.text}`);
      expect(alert.channel).toBe('alerts');
      expect(alert.reply.severity).toBe('warn');
      expect(alert.reply.text).toMatch(/More than FAILOVER_MAX_LAG_BYTES \(1\.0 MB\)/);
      expect((alert.reply.data as { lagBytes: number }).lagBytes).toBeGreaterThan(MB);
      // The native lag rule over the Patroni snapshot, with its LAG_BYTES_* thresholds.
      const native = await until('the LAG_BYTES_WARN alert for readonly', 30_000, async () => bot.chat.posts.find((p) => /^Replication lag: readonly is .+ behind$/.test(p.reply.title)), () => titles(bot));
      expect(native.reply.text).toMatch(/Next step: /);
      expect(native.reply.fields?.find((f) => f.label === 'Threshold')?.value).toBe('warn ≥ 1.0 MB, crit ≥ 256 MB');
      // The lag chart shows the same episode.
      let last = '';
      await until('the lag peak of readonly in /cluster lag', 20_000, async () => {
        const d = (await bot.run('/cluster lag 10m')).data as LagData;
        const s = d.series.find((x) => x.node === 'readonly');
        last = JSON.stringify(s);
        return s && s.maxBytes > MB;
      }, () => last);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const resolved = await until('"readonly caught up"', 30_000, async () => bot.chat.posts.find((p) => p.reply.title === 'readonly caught up'), () => titles(bot));
    expect(resolved.reply.severity).toBe('ok');
    await until('the LAG_BYTES_WARN alert resolved', 30_000, async () => bot.chat.posts.find((p) => /^Resolved — Replication lag: readonly/.test(p.reply.title)), () => titles(bot));
    expect(bot.chat.posts.filter((p) => /Primary down|is gone/.test(p.reply.title))).toEqual([]);
  });

  it('posts "WAL archiver failing" when Patroni\'s archive_command fails, and resolves it when it works again', async () => {
    // The repository's archive folder unwritable for the members: pgbackrest archive-push fails.
    const archive = join(bot.config.walArchiveDir, 'archive', 'clusterbot');
    await bot.sql('primary', "INSERT INTO proyecto.logs_replicacion (evento) VALUES ('archiver test')");
    const [{ seg }] = await bot.sql<{ seg: string }>('primary', 'SELECT pg_walfile_name(pg_current_wal_lsn()) AS seg');
    chmodSync(archive, 0o000);
    try {
      await bot.sql('primary', 'SELECT pg_switch_wal()');
      const alert = await until('"WAL archiver failing on primary"', 60_000, async () => bot.chat.posts.find((p) => p.reply.title === 'WAL archiver failing on primary'), () => titles(bot));
      expect(alert.channel).toBe('alerts');
      expect(alert.reply.text).toMatch(/Next step: check the archive folder/);
      const status = await bot.run('/cluster status');
      expect(status.fields?.find((f) => f.label === 'Alerts')?.value).toMatch(/1 firing: archiver failing \(primary\)/);
    } finally {
      chmodSync(archive, 0o750);
    }
    await bot.sql('primary', "INSERT INTO proyecto.logs_replicacion (evento) VALUES ('archiver test 2')");
    await bot.sql('primary', 'SELECT pg_switch_wal()');
    await until('"Resolved — WAL archiver failing on primary"', 120_000, async () => bot.chat.posts.find((p) => p.reply.title === 'Resolved — WAL archiver failing on primary'), () => titles(bot));
    const dir = join(archive, '15-1', seg.slice(0, 16));
    await until(`${seg} archived for real`, 60_000, async () => existsSync(dir) && readdirSync(dir).some((f) => f.startsWith(`${seg}-`) && f.endsWith('.zst')));
  });

  it('says when Patroni\'s REST API is unreachable from the bot, and when it answers again', async () => {
    const leader = h.member('primary');
    const link = new CuttableLink({ host: '127.0.0.1', port: Number(new URL(leader.apiUrl).port) });
    await link.open();
    try {
      const cut = await startPatroniBot(h, { PATRONI_URLS: link.url, PATRONI_TIMEOUT_MS: '1000', CLUSTERBOT_HOME: `${h.dir}/bot-cut` });
      bots.push(cut);
      await monitored(cut);
      const cutWatch = cut.app.services.monitor.running!.backendWatch!;
      const before = await cut.run('/cluster status');
      expect(before.fields?.find((f) => f.label === 'Patroni')?.value).toMatch(/^leader primary/);

      await link.cut();
      const down = await until('"Patroni API unreachable"', 20_000, async () => cut.chat.posts.find((p) => p.reply.title === 'Patroni API unreachable'), () => titles(cut));
      console.log(`[patroni-watch] ${down.reply.title}: ${down.reply.text}`);
      expect(down.channel).toBe('alerts');
      expect(down.reply.severity).toBe('crit');
      expect(down.reply.text).toContain(`no Patroni member answered (${link.url}: ECONNREFUSED)`);
      expect(down.reply.text).toMatch(/The bot cannot see leader changes until a member answers\.$/);
      const status = await cut.run('/cluster status');
      expect(status.severity).toBe('crit');
      expect(status.fields?.find((f) => f.label === 'Patroni')?.value).toMatch(/^UNREACHABLE — no Patroni member answered/);
      // One alert for the outage, not one per check: three more failed checks post nothing new.
      const ticked = cutWatch.ticks;
      await until('three more watcher checks', 20_000, async () => cutWatch.ticks >= ticked + 3, () => `${cutWatch.ticks - ticked} checks`);
      expect(cut.chat.posts.filter((p) => p.reply.title === 'Patroni API unreachable').length).toBe(1);

      await link.open();
      const back = await until('"Patroni API reachable again"', 20_000, async () => cut.chat.posts.find((p) => p.reply.title === 'Patroni API reachable again'), () => titles(cut));
      expect(back.reply.severity).toBe('ok');
      expect(cut.chat.posts.filter((p) => /Primary down|Leader changed/.test(p.reply.title))).toEqual([]);
    } finally {
      await link.close();
    }
  });

  it('posts "Backup overdue" when no backup ran within its schedule, and resolves it after a backup', async () => {
    const every5s = '*/5 * * * * *';
    const late = await startPatroniBot(h, { BACKUP_FULL_CRON: every5s, BACKUP_INCREMENTAL_CRON: every5s, MONITOR_INTERVAL_SECONDS: '1', CLUSTERBOT_HOME: `${h.dir}/bot-late` });
    bots.push(late);
    await monitored(late);
    const overdue = await until('"Backup overdue"', 40_000, async () => late.chat.posts.find((p) => p.reply.title === 'Backup overdue'), () => titles(late));
    expect(overdue.channel).toBe('alerts');
    expect(overdue.reply.text).toMatch(/^full backup overdue: none in the .+ since the bot started; "\*\/5 \* \* \* \* \*" expects one every/);
    // Under heavy load Patroni may be electing a leader right now: a backup needs one (any member).
    let seen = '';
    await until('a Patroni leader to back up from', 90_000, async () => {
      const snap = await late.app.services.snapshot();
      seen = snap.nodes.map((n) => `${n.name}: ${n.role}`).join(', ');
      return snap.primary;
    }, () => seen);
    const backup = await late.run('/cluster backup full');
    expect(backup.failed, backup.text).toBeFalsy();
    await until('"Resolved — Backup overdue"', 20_000, async () => late.chat.posts.find((p) => p.reply.title === 'Resolved — Backup overdue'), () => titles(late));
    expect(late.chat.posts.filter((p) => p.reply.title === 'Backup overdue').length).toBe(1);
  });

  it('serves /metrics and /healthz, posts the health report and alerts on replay delay (seconds) and disk usage over the Patroni snapshot', async () => {
    const mon = await startPatroniBot(h, {
      CLUSTERBOT_HOME: `${h.dir}/bot-mon`,
      MONITOR_INTERVAL_SECONDS: '1',
      LAG_SECONDS_WARN: '3',
      // Any used filesystem is past 0.01 %: the disk rule fires on the WAL archive's and backups' folders.
      DISK_USAGE_WARN: '0.01',
      HEALTH_REPORT_CRON: '*/2 * * * * *',
    });
    bots.push(mon);
    await monitored(mon);
    const base = `http://${mon.config.HTTP_HOST}:${mon.config.HTTP_PORT}`;
    expect(await listenHttp(mon.app.http, mon.config)).toContain(base);

    // Under heavy load Patroni may have moved the leader in an earlier test: name the members by role.
    let seen = '';
    const { leader, replicas } = await until('a Patroni leader and two running replicas', 90_000, async () => {
      const snap = await mon.app.services.snapshot();
      seen = snap.nodes.map((n) => `${n.name}: ${n.role}`).join(', ');
      const reps = snap.nodes.filter((n) => n.up && n.role === 'replica').map((n) => n.name);
      return snap.primary !== null && reps.length === 2 && { leader: snap.primary, replicas: reps };
    }, () => seen);
    const [frozen, other] = replicas;

    let last = '';
    const metrics = await until('every member up in /metrics', 30_000, async () => {
      last = await (await fetch(`${base}/metrics`)).text();
      return ['primary', 'standby', 'readonly'].every((n) => new RegExp(`^clusterbot_node_up\\{node="${n}"\\} 1$`, 'm').test(last)) && last;
    }, () => last.split('\n').filter((l) => l.startsWith('clusterbot_node_up')).join('; ') || last.slice(0, 300));
    expect(metrics).toMatch(new RegExp(`^clusterbot_node_role\\{node="${leader}",role="primary"\\} 1$`, 'm'));
    expect(metrics).toMatch(new RegExp(`^clusterbot_replication_lag_bytes\\{node="${frozen}"\\} \\d+$`, 'm'));
    expect(metrics).toMatch(new RegExp(`^clusterbot_replication_lag_seconds\\{node="${other}"\\} [\\d.e+-]+$`, 'm'));

    let said = '';
    const health = await until('/healthz 200', 30_000, async () => {
      const res = await fetch(`${base}/healthz`);
      said = `${res.status} ${await res.clone().text()}`;
      return res.status === 200 && ((await res.json()) as { status: string; backend: string });
    }, () => said);
    expect(health).toMatchObject({ status: 'ok', backend: 'patroni' });

    const report = await until('the health report', 30_000, async () => mon.chat.posts.find((p) => /^Health report — /.test(p.reply.title)), () => titles(mon));
    expect(report.channel).toBe('reports');
    expect(JSON.stringify(report.reply.tables)).toContain(other);

    const disk = await until('a disk usage alert', 30_000, async () => mon.chat.posts.find((p) => /^Disk \d+% full: /.test(p.reply.title)), () => titles(mon));
    expect(disk.channel).toBe('alerts');
    expect(disk.reply.title).toMatch(/WAL archive|backups/);

    // Patroni resumes a paused replay (pg_wal_replay_pause) within a loop: freeze a replica's startup
    // process instead (SIGSTOP), so it receives WAL but replays none while the leader keeps committing.
    const [{ pid }] = await mon.sql<{ pid: number }>(frozen, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'startup'");
    expect(pid).toBeGreaterThan(0);
    let seenReplica: unknown = null;
    process.kill(pid, 'SIGSTOP');
    try {
      const alert = await until(`"Replay delay: ${frozen} is … behind"`, 60_000, async () => {
        await mon.sql(leader, "INSERT INTO proyecto.logs_replicacion (evento) VALUES ('replay delay test')");
        [seenReplica] = await mon.sql(frozen, 'SELECT pg_last_wal_receive_lsn()::text AS received, pg_last_wal_replay_lsn()::text AS replayed, now() - pg_last_xact_replay_timestamp() AS delay');
        return mon.chat.posts.find((p) => p.reply.title.startsWith(`Replay delay: ${frozen} is `));
      }, () => `${frozen} ${JSON.stringify(seenReplica)}; posts: ${titles(mon)}`);
      console.log(`[patroni-monitor] ${alert.reply.title}`);
      expect(alert.channel).toBe('alerts');
      expect(alert.reply.text).toMatch(new RegExp(`^The last transaction ${frozen} replayed was committed .+ ago while newer WAL is waiting\\.`));
      const lagged = await (await fetch(`${base}/metrics`)).text();
      expect(Number(new RegExp(`^clusterbot_replication_lag_seconds\\{node="${frozen}"\\} ([\\d.e+-]+)$`, 'm').exec(lagged)?.[1])).toBeGreaterThanOrEqual(3);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await until('the replay delay alert resolved', 60_000, async () => mon.chat.posts.find((p) => p.reply.title.startsWith(`Resolved — Replay delay: ${frozen}`)), () => titles(mon));
  });
});
