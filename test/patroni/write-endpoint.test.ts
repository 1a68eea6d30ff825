// The PgBouncer write endpoint with the Patroni backend, on real etcd + Patroni + PostgreSQL on
// loopback (one cluster; the tests run in order): started on the leader as clusterbot start does; a
// client writing through it sees 0 errors across a button-confirmed /cluster switchover and lands on
// the new leader; after kill -9 of that leader, the watcher repoints it to the leader Patroni promotes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';
import { stopWriteEndpoint } from '../../src/cluster/write-endpoint/index.js';
import { startPatroniEndpoint } from '../../src/patroni/endpoint.js';
import type { PatroniWatch } from '../../src/patroni/watch.js';
import { freePort } from '../helpers/cluster.js';
import { AddressLoad } from '../helpers/endpoint-load.js';
import { eventually } from '../helpers/wait.js';
import { person, startPatroniBot, type PatroniBot, watchPatroni } from './app.js';
import { startPatroniCluster, type PatroniHarness } from './harness.js';

/** The status card's "Write endpoint: …" line, without the primary's own address after it. */
const endpointOf = (r: Reply) => /^Write endpoint: (.*?)(?: — the primary itself: .*)?$/m.exec(r.text ?? '')?.[1] ?? `(no endpoint line in: ${r.text})`;

describe('write endpoint (PgBouncer) on the Patroni backend', () => {
  let h: PatroniHarness;
  let bot: PatroniBot;
  let watch: PatroniWatch | null = null;
  let port: number;
  const pgPort = (name: string) => h.member(name).pgPort;

  beforeAll(async () => {
    port = await freePort();
    h = await startPatroniCluster({ ttl: 10, loopWait: 2, retryTimeout: 4 });
    bot = await startPatroniBot(h, { WRITE_ENDPOINT: 'true', WRITE_ENDPOINT_PORT: String(port) });
    await bot.sql('primary', 'CREATE TABLE proyecto.carga (id bigint PRIMARY KEY, nodo text NOT NULL, at timestamptz NOT NULL DEFAULT now())');
  });

  afterAll(async () => {
    await watch?.stop();
    if (bot) await stopWriteEndpoint(bot.config).catch(() => undefined);
    await bot?.close().catch(() => undefined);
    await h?.destroy();
  });

  it('clusterbot start points PgBouncer at the leader; /cluster status shows it', async () => {
    expect(await startPatroniEndpoint(bot.app.services)).toMatch(new RegExp(`^Write endpoint: 127\\.0\\.0\\.1:${port} → primary \\(PgBouncer started, pid \\d+\\)$`));
    watch = await watchPatroni(bot);
    expect(endpointOf(await bot.run('/cluster status'))).toBe(`127.0.0.1:${port} → primary`);
  });

  it('a client writing through the endpoint sees 0 errors across a /cluster switchover and lands on the new leader', async () => {
    const load = new AddressLoad(bot.config, port, 1).start();
    try {
      await load.waitAcked(50, 60_000);
      expect(load.lastPort).toBe(pgPort('primary'));
      const card = await bot.run('/cluster switchover standby');
      expect(card.failed, card.text).toBeFalsy();
      const done = await bot.press(card.buttons![0].actionId, person('alice'));
      expect(done.failed, done.text).toBeFalsy();
      expect(done.data).toMatchObject({ ok: true, from: 'primary', to: 'standby', endpoint: { ok: true, line: `127.0.0.1:${port} → standby, resumed` } });
      // The endpoint line first; after it, the note on backups across the switch (BACKUP_AFTER_FAILOVER).
      expect(done.text?.split('\n')[0]).toBe(`Write endpoint: 127.0.0.1:${port} → standby, resumed`);
      await load.waitAcked(50, 60_000);
      expect(load.lastPort).toBe(pgPort('standby'));
    } finally {
      await load.stop();
    }
    console.log(`[patroni endpoint] switchover: ${load.acked.length} writes, ${load.errors.length} client errors, longest pause ${load.longestPauseMs} ms`);
    expect(load.errors).toEqual([]);
    const n = await bot.sql<{ n: string }>('standby', 'SELECT count(*) AS n FROM proyecto.carga WHERE id = ANY($1::bigint[])', [load.acked]);
    expect(Number(n[0].n)).toBe(load.acked.length);
    expect(endpointOf(await bot.run('/cluster status'))).toBe(`127.0.0.1:${port} → standby`);
  }, 300_000);

  it("after kill -9 of the leader, the watcher repoints the endpoint to the leader Patroni promotes", async () => {
    const load = new AddressLoad(bot.config, port, 1_000_000).start();
    try {
      await load.waitAcked(30, 60_000);
      expect(load.lastPort).toBe(pgPort('standby'));
      await h.killMember('standby');
      // readonly is tagged nofailover: Patroni can only promote primary (ttl 10 s).
      await eventually('writes through the endpoint reaching primary', async () => load.lastPort, (p) => p === pgPort('primary'), { timeoutMs: 120_000 });
    } finally {
      await load.stop();
    }
    console.log(`[patroni endpoint] Patroni's own failover: ${load.errors.length} client errors while the leader was dead, then writes on primary`);
    expect(bot.chat.posts.map((p) => p.reply.title)).not.toContain('Write endpoint not on the leader primary');
    expect(endpointOf(await bot.run('/cluster status'))).toBe(`127.0.0.1:${port} → primary`);
  }, 300_000);
});
