// Issue 22, item 4, on real etcd + Patroni + PostgreSQL on loopback: the leader's PostgreSQL frozen
// (SIGSTOP of the postmaster and every child, as a stalled data disk does) while its Patroni lives.
// The bot's own SQL probe alerts before Patroni's leader key expires; Patroni then fails over on its
// own; a row is written on the new leader; the old leader thaws.
// - etcd3 (Patroni 3.0.2's leader-key update is not a compare-and-swap there): leadership goes back
//   to the thawed member on timeline 1, the row is gone, and the bot names the discarded range and
//   that no replica runs, both critical.
// - etcd v2 API, the shipped configuration: the thawed member finds the key taken, demotes itself
//   and rejoins on timeline 2; the acknowledged row survives on every member.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLsn } from '../../src/cluster/lsn.js';
import type { PatroniWatch } from '../../src/patroni/watch.js';
import type { Protection } from '../../src/patroni/protections.js';
import { startPatroniBot, type PatroniBot, watchPatroni } from './app.js';
import { startPatroniCluster, type PatroniHarness, type PatroniHarnessOptions } from './harness.js';
import { within as until } from '../helpers/wait.js';

interface Range {
  timeline: number;
  leader: string;
  from: string;
  to: string;
}

const titles = (b: PatroniBot) => b.chat.posts.map((p) => p.reply.title).join(' | ');

async function watcherLooked(w: PatroniWatch): Promise<void> {
  const from = w.ticks;
  await until('two more Patroni watcher cycles', 30_000, async () => w.ticks >= from + 2, () => `${w.ticks - from} cycles`);
}

/** Freeze the leader, see the alert, let Patroni promote standby, write a row there, thaw. */
async function freezeFailoverWriteThaw(h: PatroniHarness, bot: PatroniBot, watch: PatroniWatch, tag: string): Promise<{ lsn: string }> {
  await bot.sql('primary', 'CREATE TABLE proyecto.frozen_test (id int PRIMARY KEY, note text)');
  await bot.sql('primary', "INSERT INTO proyecto.frozen_test VALUES (1, 'before the freeze')");
  await watcherLooked(watch); // it has read the leader over SQL
  bot.chat.posts.length = 0;
  const frozenAt = Date.now();
  h.freezePostgres('primary');
  try {
    const alert = await until('the frozen-leader alert', 30_000, async () => bot.chat.posts.find((p) => p.reply.title === 'Primary down: primary'), () => titles(bot));
    console.log(`[${tag}] freeze → alert ${alert.at - frozenAt} ms: ${alert.reply.text}`);
    expect(alert.channel).toBe('alerts');
    expect(alert.reply.severity).toBe('crit');
    expect(alert.reply.text).toMatch(/^leader primary does not answer SQL \(timed out after 1000 ms\); Patroni still reports it leader \(since \d\d:\d\d:\d\d UTC\)\. /);
    const promoted = await until('Patroni to promote standby', 120_000, async () => bot.chat.posts.find((p) => p.reply.title.startsWith('Patroni promoted standby')), () => titles(bot));
    console.log(`[${tag}] freeze → "${promoted.reply.title}" ${promoted.at - frozenAt} ms`);
    const [row] = await bot.sql<{ lsn: string }>('standby', "INSERT INTO proyecto.frozen_test VALUES (2, 'acknowledged on the new leader') RETURNING pg_current_wal_lsn()::text AS lsn");
    await watcherLooked(watch); // it has read the new leader's LSN past that commit
    return row;
  } finally {
    h.thawPostgres('primary');
  }
}

/** One cluster, bot and watcher for a describe block, stopped afterwards even after a failure. */
function clusterWithWatcher(opts: PatroniHarnessOptions): { h: PatroniHarness; bot: PatroniBot; watch: PatroniWatch } {
  const ctx = {} as { h: PatroniHarness; bot: PatroniBot; watch: PatroniWatch };
  beforeAll(async () => {
    ctx.h = await startPatroniCluster({ ttl: 10, loopWait: 2, retryTimeout: 4, ...opts });
    ctx.bot = await startPatroniBot(ctx.h);
    ctx.watch = await watchPatroni(ctx.bot);
  });
  afterAll(async () => {
    await ctx.watch?.stop();
    await ctx.bot?.close().catch(() => undefined);
    await ctx.h?.destroy();
  });
  return ctx;
}

describe('a frozen leader on Patroni 3.0.2 with etcd3: leadership goes back to the old timeline', () => {
  const c = clusterWithWatcher({ dcs: 'etcd3' });

  it('alerts the frozen leader at once; after the thaw names the discarded timeline-2 range in a critical alert, and the row is gone', async () => {
    const { h, bot, watch } = c;
    const written = await freezeFailoverWriteThaw(h, bot, watch, 'etcd3');
    const discarded = await until('the discarded-writes alert', 120_000, async () => bot.chat.posts.find((p) => p.reply.title.startsWith('Acknowledged writes discarded')), () => titles(bot));
    console.log(`[etcd3] ${discarded.reply.title}: ${discarded.reply.text}`);
    expect(discarded.channel).toBe('alerts');
    expect(discarded.reply.severity).toBe('crit');
    expect(discarded.reply.title).toBe('Acknowledged writes discarded: leader is primary on timeline 1');
    const [range] = (discarded.reply.data as { ranges: Range[] }).ranges;
    expect(range).toMatchObject({ timeline: 2, leader: 'standby' });
    // The range starts where timeline 2 began and reaches past the acknowledged row.
    expect(parseLsn(range.from)!).toBeLessThanOrEqual(parseLsn(written.lsn)!);
    expect(parseLsn(range.to)!).toBeGreaterThan(parseLsn(written.lsn)!);
    const field = (label: string) => discarded.reply.fields?.find((f) => f.label === label)?.value ?? '';
    expect(field('Discarded WAL')).toMatch(new RegExp(`^timeline 2 from ${range.from} to ${range.to} \\(.+, written on standby\\): ([1-9]\\d* committed transactions? \\(pg_waldump over .+\\)|pg_waldump could not read it \\(.+\\); at least [1-9]\\d* write transactions? began there while the bot watched)$`));
    expect(field('Next step')).toMatch(/^keep standby from being rewound before its WAL is saved: \/cluster maintenance on/);
    // The loss is real: the thawed leader on timeline 1 does not have the acknowledged row.
    console.log(`[etcd3] after the thaw: ${titles(bot)}`);
    const leaderRows = await until('primary answering as the leader', 60_000, async () => bot.sql<{ n: number }>('primary', 'SELECT count(*)::int AS n FROM proyecto.frozen_test WHERE id = 2'));
    expect(leaderRows[0].n).toBe(0);

    const status = await bot.run('/cluster status');
    const protections = (status.data as { patroni: { protections: Protection[] } }).patroni.protections;
    expect(protections.find((p) => p.name === 'check_timeline')?.state).toBe('on');
    expect(protections.find((p) => p.name === 'synchronous_mode')?.state).toBe('off');
    expect(status.fields?.find((f) => f.label === 'Protections')?.value).toMatch(/^off or unknown: watchdog UNKNOWN/);
  }, 420_000);
});

describe('a frozen leader with the shipped configuration (etcd v2 API): the thawed leader steps down', () => {
  const c = clusterWithWatcher({});

  it('alerts the frozen leader at once; the row acknowledged on the new leader survives the thaw on every member', async () => {
    const { h, bot, watch } = c;
    await freezeFailoverWriteThaw(h, bot, watch, 'etcd v2');
    await until('the thawed primary streaming from standby on timeline 2', 180_000, async () => {
      const rows = await bot.sql<{ ro: boolean; n: number }>('primary', 'SELECT pg_is_in_recovery() AS ro, (SELECT count(*)::int FROM proyecto.frozen_test WHERE id = 2) AS n');
      return rows[0].ro && rows[0].n === 1;
    });
    expect((await bot.sql<{ n: number }>('standby', 'SELECT count(*)::int AS n FROM proyecto.frozen_test WHERE id = 2'))[0].n).toBe(1);
    const status = await bot.run('/cluster status');
    expect((status.data as { patroni: { leader: string } }).patroni.leader).toBe('standby');
    await watcherLooked(watch);
    expect(bot.chat.posts.filter((p) => /Acknowledged writes discarded/.test(p.reply.title))).toEqual([]);
  }, 420_000);

  it('says "No replica running", critical, when every member but the leader is gone', async () => {
    const { h, bot } = c;
    await h.killMember('primary');
    await h.killMember('readonly');
    const alone = await until('the no-replica alert', 120_000, async () => bot.chat.posts.find((p) => p.reply.title === 'No replica running'), () => titles(bot));
    console.log(`[etcd v2] ${alone.reply.title}: ${alone.reply.text}`);
    expect(alone.channel).toBe('alerts');
    expect(alone.reply.severity).toBe('crit');
    expect(alone.reply.text).toBe('standby is the only member running (primary gone, readonly gone): nothing can take over, and every acknowledged write exists once.');
    expect(alone.reply.fields?.find((f) => f.label === 'Next step')?.value).toMatch(/\/cluster rejoin primary re-clones it from the leader$/);
  }, 420_000);
});
