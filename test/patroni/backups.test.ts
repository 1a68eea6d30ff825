// Backups on pgBackRest with CLUSTER_BACKEND=patroni, on real etcd + Patroni + PostgreSQL on loopback.
// Patroni's archive_command is pgbackrest archive-push into the repository under the bot's BACKUP_DIR
// (harness); the bot runs pgbackrest backup from a streaming replica it finds through Patroni's
// /cluster, with the members' data directories as their own settings name them.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackupSchedules } from '../../src/backup/install.js';
import { botTestEnv } from '../helpers/cluster.js';
import { person, startPatroniBot, type PatroniBot } from './app.js';
import { sleep, startPatroniCluster, type PatroniHarness } from './harness.js';
import { within as until } from '../helpers/wait.js';

interface EntryData {
  id: string;
  kind: string;
  node: string;
  verified: boolean | null;
}

const NEVER = '0 0 1 1 *';
const BIN = new URL('../../bin/clusterbot.js', import.meta.url).pathname;


describe('backups with the Patroni backend', () => {
  let h: PatroniHarness;
  let bot: PatroniBot;
  let fullId = '';

  beforeAll(async () => {
    const t0 = Date.now();
    h = await startPatroniCluster({ ttl: 10, loopWait: 2, retryTimeout: 4 });
    bot = await startPatroniBot(h);
    console.log(`[patroni-backups] etcd + 3 Patroni members up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  afterAll(async () => {
    await bot?.close().catch(() => undefined);
    await h?.destroy();
  });

  it('Patroni archives WAL with pgbackrest archive-push into the bot\'s repository and replicas get it back with archive-get', async () => {
    const [{ seg }] = await bot.sql<{ seg: string }>('primary', 'SELECT pg_walfile_name(pg_switch_wal()) AS seg');
    const dir = `${bot.config.walArchiveDir}/archive/clusterbot/15-1/${seg.slice(0, 16)}`;
    const pushed = new RegExp(`^${seg}-[0-9a-f]{40}\\.zst$`);
    await until(`${seg} in ${dir}`, 60_000, async () => existsSync(dir) && readdirSync(dir).some((f) => pushed.test(f)), () => (existsSync(dir) ? readdirSync(dir).join(', ') : 'no folder'));
    for (const node of ['standby', 'readonly']) {
      const [{ cmd }] = await bot.sql<{ cmd: string }>(node, 'SELECT current_setting(\'restore_command\') AS cmd');
      expect(cmd).toBe('pgbackrest --stanza=clusterbot archive-get "%f" "%p"');
    }
  });

  it('backup full comes from a streaming replica Patroni lists, is verified, and a restore check finds the 5 usuarios', async () => {
    const members = JSON.parse(h.patronictl(['list', '-f', 'json'])) as Array<{ Member: string; Role: string; State: string }>;
    const replicas = members.filter((m) => m.Role === 'Replica' && m.State === 'running').map((m) => m.Member);
    const t0 = Date.now();
    const reply = await bot.run('/cluster backup full');
    console.log(`[patroni-backups] backup full: ${reply.title} (${Date.now() - t0} ms)`);
    expect(reply.failed, reply.text).toBeFalsy();
    const entry = (reply.data as { backup: EntryData }).backup;
    expect(entry).toMatchObject({ kind: 'full', verified: true });
    expect(replicas).toContain(entry.node);
    fullId = entry.id;
    expect(existsSync(`${h.backupDir}/pgbackrest/backup/clusterbot/${entry.id}/backup.manifest`)).toBe(true);

    const status = await bot.run('/cluster status');
    expect(status.fields?.find((f) => f.label === 'Last backup')?.value).toMatch(new RegExp(`^${fullId}, .* ago, verified`));

    const list = await bot.run('/cluster backups');
    expect(list.failed).toBeFalsy();
    expect(JSON.stringify(list.data)).toContain(fullId);

    const verify = await bot.run(`/cluster verify ${fullId}`);
    expect(verify.failed, verify.text).toBeFalsy();
    expect(verify.data).toMatchObject({ ok: true });

    const t1 = Date.now();
    const check = await bot.run(`/cluster restore-check ${fullId}`);
    console.log(`[patroni-backups] restore-check: ${check.title}; ${JSON.stringify(check.data)} (${Date.now() - t1} ms)`);
    expect(check.failed, check.text).toBeFalsy();
    expect(check.data).toMatchObject({ backup: fullId, usuarios: 5 });
  });

  it('incr copies what changed; a restore check to a time finds the rows as of that time', async () => {
    expect(fullId).not.toBe('');
    await bot.sql('primary', "INSERT INTO proyecto.usuarios (nombre, email) VALUES ('antes', 'antes@example.org')");
    await sleep(1100);
    const [{ at }] = await bot.sql<{ at: Date }>('primary', 'SELECT now() AS at');
    await sleep(1100);
    await bot.sql('primary', "INSERT INTO proyecto.usuarios (nombre, email) VALUES ('despues', 'despues@example.org')");

    const incr = await bot.run('/cluster backup incr');
    expect(incr.failed, incr.text).toBeFalsy();
    expect((incr.data as { backup: EntryData }).backup).toMatchObject({ kind: 'incr', verified: true });

    const pitr = await bot.run(`/cluster restore-check ${fullId} ${at.toISOString()}`);
    console.log(`[patroni-backups] PITR to ${at.toISOString()}: ${JSON.stringify(pitr.data)}`);
    expect(pitr.failed, pitr.text).toBeFalsy();
    expect(pitr.data).toMatchObject({ backup: fullId, target: at.toISOString(), usuarios: 6 });

    const all = await bot.run(`/cluster restore-check ${fullId}`);
    expect(all.failed, all.text).toBeFalsy();
    expect(all.data).toMatchObject({ usuarios: 7 });
  });

  it('retention keeps the newest full backup; a scheduled incremental posts its verified report to the backups channel', async () => {
    const prune = await bot.run('/cluster backup prune');
    expect(prune.failed, prune.text).toBeFalsy();
    expect((await bot.app.services.backups.info()).sets.map((e) => e.id)).toContain(fullId);

    await bot.sql('primary', "INSERT INTO proyecto.logs_replicacion (evento) VALUES ('scheduled incremental test')");
    bot.chat.posts.length = 0;
    const scheduler = startBackupSchedules(bot.app, { full: NEVER, incremental: '*/2 * * * * *', prune: NEVER })!;
    try {
      const post = await until('a scheduled incremental report in the backups channel', 60_000, async () => bot.chat.posts.find((p) => p.channel === 'backups'), () => bot.chat.posts.map((p) => p.reply.title).join(' | '));
      console.log(`[patroni-backups] scheduled run: ${post.reply.title}`);
      expect(post.reply.severity).toBe('ok');
      expect(post.reply.title).toMatch(/^Backup \S+I taken and verified$/);
      expect(post.reply.context).toMatch(/^scheduled run/);
    } finally {
      await scheduler.stop();
    }
  });

  it('after a Patroni switchover (new timeline) an incr continues and a restore check replays across it', async () => {
    const card = await bot.run('/cluster switchover standby');
    expect(card.failed, card.text).toBeFalsy();
    const done = await bot.press(card.buttons![0].actionId, person('alice'));
    expect(done.data, done.text).toMatchObject({ ok: true, primary: 'standby' });
    let last = '';
    await until('primary streaming from the new leader standby', 60_000, async () => {
      const s = (await bot.run('/cluster status')).data as { nodes: Array<{ name: string; role: string; streaming: boolean; upstream: string | null }> };
      last = JSON.stringify(s.nodes.map((n) => [n.name, n.role, n.streaming, n.upstream]));
      return s.nodes.find((n) => n.name === 'primary')?.streaming;
    }, () => last);
    await bot.sql('standby', "INSERT INTO proyecto.usuarios (nombre, email) VALUES ('nuevo líder', 'lider@example.org')");

    const incr = await bot.run('/cluster backup incr');
    expect(incr.failed, incr.text).toBeFalsy();
    const entry = (incr.data as { backup: EntryData & { timeline: number } }).backup;
    expect(entry).toMatchObject({ kind: 'incr', verified: true, timeline: 2 });

    const check = await bot.run(`/cluster restore-check ${fullId}`);
    console.log(`[patroni-backups] restore-check across the switchover: ${JSON.stringify(check.data)}`);
    expect(check.failed, check.text).toBeFalsy();
    expect(check.data).toMatchObject({ backup: fullId, usuarios: 8 });

    const full = await bot.run('/cluster backup full');
    expect(full.failed, full.text).toBeFalsy();
    expect(['primary', 'readonly']).toContain((full.data as { backup: EntryData }).backup.node);
  });

  it('clusterbot start with Patroni runs the backup schedules and the monitor: a scheduled incremental reaches the terminal, /metrics and /healthz answer, /cluster lag answers', async () => {
    expect(existsSync(new URL('../../dist/src/cli.js', import.meta.url)), 'dist/ is missing: run `npm run build`').toBe(true);
    await bot.sql('standby', "INSERT INTO proyecto.logs_replicacion (evento) VALUES ('before clusterbot start')");
    const child = spawn(process.execPath, [BIN, 'start'], {
      env: {
        PATH: process.env.PATH,
        ...h.env,
        ...(await botTestEnv()),
        CLUSTERBOT_HOME: `${h.dir}/bot-start`,
        CLUSTERBOT_ENV_FILE: '/dev/null',
        MONITOR_INTERVAL_SECONDS: '1',
        BACKUP_FULL_CRON: NEVER,
        BACKUP_INCREMENTAL_CRON: '*/3 * * * * *',
        BACKUP_PRUNE_CRON: NEVER,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const seen = (re: RegExp, what: string) => until(what, 60_000, async () => re.test(out), () => out.slice(-600));
    try {
      await seen(/Type \/cluster help/, 'the chat to open');
      expect(out).toMatch(/Patroni backend/);
      // The one monitor runs on Patroni too, with /metrics and /healthz on HTTP_PORT.
      await seen(/\/metrics and \/healthz on http:\/\/\S+/, 'the /metrics line');
      const base = /\/metrics and \/healthz on (http:\/\/\S+)/.exec(out)![1];
      let said = '';
      await until('/healthz 200 from clusterbot start', 60_000, async () => {
        const res = await fetch(`${base}/healthz`);
        said = `${res.status} ${await res.text()}`;
        return res.status === 200 && /"backend":"patroni"/.test(said);
      }, () => said);
      // Every member up; the two replicas (whichever they are after the switchover above) with their lag.
      let metrics = '';
      await until('3 members up and 2 replicas\' lag in /metrics', 60_000, async () => {
        metrics = await (await fetch(`${base}/metrics`)).text();
        return (metrics.match(/^clusterbot_node_up\{node="\w+"\} 1$/gm) ?? []).length === 3 && (metrics.match(/^clusterbot_replication_lag_bytes\{node="\w+"\} \d+$/gm) ?? []).length === 2;
      }, () => metrics.split('\n').filter((l) => /^clusterbot_(node_up|replication_lag_bytes)\{/.test(l)).join('; ') || metrics.slice(0, 300));
      await seen(/\[#backups\][^\n]*Backup \S+I taken and verified/, 'a scheduled incremental card in the terminal');
      child.stdin.write('/cluster lag 10m\n');
      await seen(/Replication lag, last 10 min/, 'the lag chart reply');
      child.stdin.write('exit\n');
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
