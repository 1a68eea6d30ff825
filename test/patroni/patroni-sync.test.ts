// /cluster sync on the Patroni backend, on real etcd + Patroni + PostgreSQL: the mode maps to
// Patroni's synchronous_mode (PATCH /config), Patroni names a synchronous standby (never the
// nosync/no-failover member), a kill -9 of the leader under a write load loses no acknowledged row,
// and off removes the synchronous standby. With no member left that can be synchronous, the one
// monitor's sync rule says Patroni degraded to asynchronous, and resolves it once sync is off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { person, startPatroniBot, WriteLoad, type PatroniBot } from './app.js';
import { sleep, startPatroniCluster, type PatroniHarness } from './harness.js';
import { within } from '../helpers/wait.js';

async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | null | undefined | false>): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    const v = await fn().catch((e: unknown) => ((last = e), null));
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(250);
  }
}

describe('synchronous replication through Patroni', () => {
  let h: PatroniHarness;
  let bot: PatroniBot;
  beforeAll(async () => {
    h = await startPatroniCluster({ ttl: 10, loopWait: 2, retryTimeout: 4 });
    bot = await startPatroniBot(h);
  });
  afterAll(async () => {
    await bot?.close().catch(() => undefined);
    await h?.destroy();
  });

  it('sync on → Patroni keeps standby synchronous; kill -9 of the leader loses no acknowledged row; sync off', async () => {
    const card = await bot.run('/cluster sync on', person('alice'));
    expect(card.title).toBe('Confirm: set synchronous replication to on (Patroni)');
    expect(card.fields?.[0]).toEqual({ label: 'PATCH /config', value: '{"synchronous_mode":true,"synchronous_mode_strict":false}' });
    const done = await bot.press(card.buttons![0].actionId, person('alice'));
    expect(done.failed, done.text).toBeFalsy();
    expect(done.data).toEqual({ mode: 'on', syncStandby: ['standby'] });
    expect(h.patronictl(['list'])).toMatch(/standby\s*\|[^\n]*Sync Standby/);

    await bot.sql('primary', 'CREATE TABLE proyecto.load_test (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
    const load = new WriteLoad(bot.config);
    load.start();
    try {
      await until('rows committed under sync', 10_000, async () => load.committed.length > 100);
      await h.killMember('primary');
      await until('Patroni to promote the synchronous standby', 60_000, async () => {
        const r = await bot.sql<{ r: boolean }>('standby', 'SELECT pg_is_in_recovery() AS r');
        return r[0].r === false;
      });
      const n = load.committed.length;
      await until('writes on the new leader', 20_000, async () => load.committed.length > n + 20);
    } finally {
      await load.stop();
    }
    const found = await bot.sql<{ n: number }>('standby', 'SELECT count(*)::int AS n FROM proyecto.load_test WHERE id = ANY($1::int[])', [load.committed]);
    console.log(`[patroni sync] ${load.committed.length} acknowledged rows, ${found[0].n} on the new leader after kill -9`);
    expect(found[0].n).toBe(load.committed.length);

    // The one monitor's sync rule on Patroni: synchronous_mode is on, but no member can be the synchronous
    // standby now (primary killed, readonly tagged nosync), so Patroni commits asynchronously: critical.
    await bot.app.services.monitor.start();
    const titles = () => bot.chat.posts.map((p) => p.reply.title).join(' | ');
    const degraded = await within('the sync-degraded alert', 90_000, async () => bot.chat.posts.find((p) => p.reply.title === 'Synchronous replication DEGRADED to asynchronous'), titles);
    console.log(`[patroni sync] ${degraded.reply.title}: ${degraded.reply.text}`);
    expect(degraded.channel).toBe('alerts');
    expect(degraded.reply.severity).toBe('crit');
    expect(degraded.reply.text).toMatch(/^No synchronous replica \(.*\) has streamed from standby for \d+ s, so commits no longer wait for one/);

    const off = await bot.run('/cluster sync off', person('alice'));
    const offDone = await bot.press(off.buttons![0].actionId, person('alice'));
    expect(offDone.failed, offDone.text).toBeFalsy();
    expect(offDone.data).toEqual({ mode: 'off', syncStandby: [] });
    await within('the sync-degraded alert resolved', 60_000, async () => bot.chat.posts.find((p) => p.reply.title === 'Resolved — Synchronous replication DEGRADED to asynchronous'), titles);
  });
});
