// Issue 11, "Must show", on real etcd + Patroni + PostgreSQL on loopback (one cluster, reused;
// the tests run in order: the switchover makes standby the leader, the crash then hits standby).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PatroniWatch } from '../../src/patroni/watch.js';
import { person, startPatroniBot, WriteLoad, type PatroniBot, watchPatroni } from './app.js';
import { sleep, startPatroniCluster, type PatroniHarness } from './harness.js';
import { within as until } from '../helpers/wait.js';
import { freePort } from '../helpers/cluster.js';

interface StatusData {
  backend: string;
  primary: string;
  nodes: Array<{ name: string; role: string; up: boolean; streaming: boolean; lagBytes: number | null; lagSeconds: number | null; timeline: number }>;
  patroni: { leader: string; paused: boolean; members: Array<{ name: string; role: string; state: string; lagBytes: number | null; nofailover: boolean }> };
}


/** Two full watcher cycles from now: whatever was true before this call, the watcher has seen it. */
async function watcherLooked(w: PatroniWatch): Promise<void> {
  const from = w.ticks;
  await until('two more Patroni watcher cycles', 20_000, async () => w.ticks >= from + 2);
}

describe('the Patroni backend on a real etcd + Patroni cluster', () => {
  let h: PatroniHarness;
  let bot: PatroniBot;
  let watch: PatroniWatch | null = null;

  beforeAll(async () => {
    const t0 = Date.now();
    h = await startPatroniCluster({ ttl: 10, loopWait: 2, retryTimeout: 4, restAuth: true });
    bot = await startPatroniBot(h);
    watch = await watchPatroni(bot);
    console.log(`[patroni] etcd + 3 Patroni members up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  afterAll(async () => {
    await watch?.stop();
    await bot?.close().catch(() => undefined);
    await h?.destroy();
  });

  it('/cluster status lists the three Patroni members with roles and lag', async () => {
    const reply = await bot.run('/cluster status');
    expect(reply.failed).toBeFalsy();
    const data = reply.data as StatusData;
    expect(data.backend).toBe('patroni');
    expect(data.primary).toBe('primary');
    expect(data.patroni.leader).toBe('primary');
    const members = Object.fromEntries(data.patroni.members.map((m) => [m.name, m]));
    expect(members.primary).toMatchObject({ role: 'leader', state: 'running' });
    expect(members.standby).toMatchObject({ role: 'replica', state: 'running', nofailover: false });
    expect(members.readonly).toMatchObject({ role: 'replica', state: 'running', nofailover: true });
    for (const name of ['standby', 'readonly']) {
      expect(typeof members[name].lagBytes).toBe('number');
      const node = data.nodes.find((n) => n.name === name)!;
      // Cross-checked with SQL: Patroni says "running", pg_stat_wal_receiver says streaming.
      expect(node).toMatchObject({ role: 'replica', up: true, streaming: true, timeline: 1 });
      expect(typeof node.lagBytes).toBe('number');
      expect(typeof node.lagSeconds).toBe('number');
    }
    const table = reply.tables!.find((t) => t.title === 'Patroni members')!;
    expect(table.rows.map((r) => r.slice(0, 2))).toEqual([
      ['primary', 'leader'],
      ['readonly', 'replica'],
      ['standby', 'replica'],
    ]);
    // The seed schema went in through Patroni's post_bootstrap hook and replicated.
    expect((await bot.sql<{ n: number }>('readonly', 'SELECT count(*)::int AS n FROM proyecto.usuarios'))[0].n).toBe(5);
  });

  it('shows a member the bot cannot reach over SQL from Patroni, and says so', async () => {
    const closed = await freePort();
    const nodes = h.members.map((m) => `${m.name}:${m.name === 'readonly' ? closed : m.pgPort}${m.nofailover ? ':nofailover' : ''}`).join(',');
    const blind = await startPatroniBot(h, { CLUSTER_NODES: nodes, CLUSTERBOT_HOME: `${h.dir}/bot-blind` });
    try {
      const data = (await blind.run('/cluster status')).data as StatusData & { nodes: Array<{ name: string; error: string | null }> };
      expect(data.nodes.find((n) => n.name === 'readonly')).toMatchObject({ role: 'replica', up: true, error: expect.stringMatching(/^from Patroni only \(SQL: /) });
      expect(data.nodes.find((n) => n.name === 'standby')).toMatchObject({ role: 'replica', up: true, streaming: true, error: null });
    } finally {
      await blind.close();
    }
  });

  it('answers commands Patroni owns with what to do instead, and refuses bad input with one line', async () => {
    const stop = await bot.run('/cluster stop primary');
    expect(stop.failed).toBe(true);
    expect(stop.text).toMatch(/^\/cluster stop is not available with the Patroni backend — stop the patroni service/);
    // The one command tree: /cluster up asks the backend, and Patroni's answer says what to do instead.
    const up = await bot.run('/cluster up');
    expect(up.failed).toBe(true);
    expect(up.text).toBe('/cluster up is not available with the Patroni backend — Patroni bootstraps the cluster: start patroni on each host (docker-compose.patroni.yml shows how)');
    const bad = await bot.run('/cluster maintenance sideways');
    expect(bad.text).toMatch(/accepted: on, off/);
    const timed = await bot.run('/cluster maintenance on 2h');
    expect(timed.text).toMatch(/Patroni's pause has no end time/);
    expect(JSON.parse(h.patronictl(['list', '-f', 'json'])).length).toBe(3);
    expect(h.patronictl(['list'])).not.toMatch(/Maintenance mode: on/);
  });

  it('maintenance on pauses Patroni (patronictl list shows it) and off resumes it', async () => {
    const viewer = await bot.run('/cluster maintenance on', person('victor'));
    expect(viewer.failed).toBe(true);
    const on = await bot.run('/cluster maintenance on', person('olga'));
    expect(on.failed).toBeFalsy();
    expect(on.title).toBe('Maintenance on: Patroni is paused');
    const listed = h.patronictl(['list']);
    console.log(`[patroni] patronictl list while paused:\n${listed}`);
    expect(listed).toMatch(/Maintenance mode: on/);
    expect(((await bot.run('/cluster status')).data as StatusData).patroni.paused).toBe(true);
    // The watcher says so in the alerts channel (wait for it while the pause lasts: a watcher cycle on a
    // loaded machine can be longer than a brief pause, and a state it never saw cannot be announced).
    const titles = () => bot.chat.posts.map((p) => p.reply.title);
    await until('the pause alert', 30_000, async () => titles().includes('Patroni paused (maintenance on)'), () => titles().join(' | '));
    const off = await bot.run('/cluster maintenance off', person('olga'));
    expect(off.title).toBe('Maintenance off: Patroni resumed');
    expect(h.patronictl(['list'])).not.toMatch(/Maintenance mode: on/);
    expect(((await bot.run('/cluster status')).data as StatusData).patroni.paused).toBe(false);
    await until('the resume alert', 30_000, async () => titles().includes('Patroni resumed (maintenance off)'), () => titles().join(' | '));
  });

  it('a button-confirmed switchover moves the leader with zero lost committed rows', async () => {
    await bot.sql('primary', 'CREATE TABLE proyecto.load_test (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
    const load = new WriteLoad(bot.config);
    load.start();
    try {
      await until('the write load to commit rows', 10_000, async () => load.committed.length > 50);
      const card = await bot.run('/cluster switchover');
      expect(card.failed).toBeFalsy();
      expect(card.title).toBe('Confirm: Switchover primary → standby via Patroni');
      expect(card.buttons!.map((b) => b.label)).toEqual(['Switchover to standby', 'Cancel']);
      // The same rules as the native backend: a viewer cannot confirm; an admin can, once.
      const refused = await bot.press(card.buttons![0].actionId, person('victor'));
      expect(refused.text).toMatch(/victor is a viewer; only an admin can confirm/);
      const clicked = Date.now();
      const done = await bot.press(card.buttons![0].actionId, person('alice'));
      console.log(`[patroni] switchover: ${done.title}; ${JSON.stringify(done.data)}; click → result ${Date.now() - clicked} ms`);
      expect(done.failed).toBeFalsy();
      expect(done.data).toMatchObject({ ok: true, from: 'primary', to: 'standby', primary: 'standby' });
      // Done only once the other member follows the new leader, and the card says after how long.
      expect(done.title).toMatch(/^Switchover done: primary → standby/);
      expect((done.data as { followers: unknown[] }).followers).toEqual([
        expect.objectContaining({ name: 'readonly', ok: true, line: expect.stringMatching(/^readonly streaming after \d+ ms \(from standby, timeline \d+\)$/) }),
      ]);
      expect(done.fields?.find((f) => f.label === 'Replicas')?.value).toMatch(/^✓ readonly streaming after \d+ ms/);
      const replay = await bot.press(card.buttons![0].actionId, person('bob'));
      expect(replay.failed).toBe(true);
      await until('more rows on the new leader', 10_000, async () => {
        const n = load.committed.length;
        await sleep(500);
        return load.committed.length > n;
      });
    } finally {
      await load.stop();
    }
    const ids = load.committed;
    const found = await bot.sql<{ n: number }>('standby', 'SELECT count(*)::int AS n FROM proyecto.load_test WHERE id = ANY($1::int[])', [ids]);
    console.log(`[patroni] write load: ${ids.length} committed rows, ${load.errors} failed attempts during the switchover, ${found[0].n} found on the new leader`);
    expect(found[0].n).toBe(ids.length);
    const status = (await bot.run('/cluster status')).data as StatusData;
    expect(status.primary).toBe('standby');
    expect(status.patroni.leader).toBe('standby');
    // A switchover the bot runs itself is announced as a leader change, never as "primary down".
    await until('the leader-change post', 10_000, async () => bot.chat.posts.some((p) => p.reply.title === 'Leader changed: primary → standby'));
    expect(bot.chat.posts.filter((p) => /Primary down|is gone|is stopped/.test(p.reply.title))).toEqual([]);
    expect(status.nodes.find((n) => n.name === 'primary')).toMatchObject({ role: 'replica', streaming: true });
  });

  it('kill -9 of the leader: Patroni fails over on its own; the bot posts "primary down" first, then "Patroni promoted …"', async () => {
    expect(watch).not.toBeNull();
    await until('the old leader streaming again', 30_000, async () => {
      const s = (await bot.run('/cluster status')).data as StatusData;
      return s.nodes.find((n) => n.name === 'primary')?.streaming && s.patroni.members.every((m) => m.state === 'running');
    });
    await watcherLooked(watch!); // …so it has seen the healthy leader
    bot.chat.posts.length = 0;
    const killed = Date.now();
    await h.killMember('standby');
    const promoted = await until('the "Patroni promoted" message', 60_000, async () => bot.chat.posts.find((p) => p.reply.title.startsWith('Patroni promoted')));
    const titles = bot.chat.posts.map((p) => p.reply.title);
    const down = bot.chat.posts.find((p) => p.reply.title === 'Primary down: standby');
    console.log(`[patroni] alerts after kill -9: ${titles.join(' | ')}`);
    console.log(`[patroni] kill → "primary down" ${down ? down.at - killed : '?'} ms; kill → "Patroni promoted" ${promoted.at - killed} ms (ttl 10, loop_wait 2)`);
    expect(down).toBeDefined();
    expect(titles.indexOf('Primary down: standby')).toBeLessThan(titles.indexOf(promoted.reply.title));
    expect(down!.channel).toBe('alerts');
    expect(down!.reply.buttons?.[0]).toMatchObject({ actionId: 'cb:cmd:/cluster failover' });
    expect(promoted.reply.title).toMatch(/^Patroni promoted primary at \d\d:\d\d:\d\d, \d+\.\d s after the leader was lost$/);
    expect(promoted.channel).toBe('alerts');
    const status = (await bot.run('/cluster status')).data as StatusData;
    expect(status.primary).toBe('primary');
    expect(status.nodes.find((n) => n.name === 'standby')).toMatchObject({ up: false, role: 'down' });
    await bot.sql('primary', "INSERT INTO proyecto.load_test (id) VALUES (-1)");
  });

  it('the killed member rejoins as a replica; failover, restart and rejoin go through Patroni', async () => {
    await watch?.stop();
    watch = null;
    h.startMember('standby');
    await until('standby back as a streaming replica (Patroni rewinds it)', 90_000, async () => {
      const s = (await bot.run('/cluster status')).data as StatusData;
      return s.nodes.find((n) => n.name === 'standby')?.streaming && s.patroni.members.every((m) => m.state === 'running');
    });
    const nofailover = await bot.run('/cluster failover readonly');
    expect(nofailover.text).toMatch(/readonly is tagged nofailover in Patroni and is never promoted/);
    const card = await bot.run('/cluster failover');
    expect(card.text, card.text).not.toMatch(/refused/);
    expect(card.title).toBe('Confirm: Failover primary → standby via Patroni');
    const operator = await bot.press(card.buttons![0].actionId, person('olga'));
    expect(operator.text).toMatch(/olga is an operator; only an admin can confirm/);
    const done = await bot.press(card.buttons![0].actionId, person('bob'));
    console.log(`[patroni] failover: ${done.title}; ${JSON.stringify(done.data)}`);
    expect(done.data).toMatchObject({ ok: true, kind: 'failover', to: 'standby' });

    const leaderRestart = await bot.run('/cluster restart standby', person('olga'));
    expect(leaderRestart.buttons?.map((b) => b.label)).toEqual(['Restart leader standby', 'Cancel']);
    expect((await bot.press(leaderRestart.buttons![1].actionId, person('olga'))).title).toMatch(/^Cancelled/);

    const restarted = await bot.run('/cluster restart readonly', person('olga'));
    expect(restarted.failed).toBeFalsy();
    expect(restarted.title).toBe('readonly restarted by Patroni');

    const rejoinCard = await bot.run('/cluster rejoin readonly', person('olga'));
    expect(rejoinCard.title).toBe('Confirm: Reinitialize readonly from the leader through Patroni');
    const rejoined = await bot.press(rejoinCard.buttons![0].actionId, person('olga'));
    console.log(`[patroni] rejoin: ${rejoined.title}: ${rejoined.text}`);
    expect(rejoined.failed).toBeFalsy();
    expect(rejoined.data).toMatchObject({ ok: true, role: 'replica' });
    expect((await bot.sql<{ n: number }>('readonly', 'SELECT count(*)::int AS n FROM proyecto.load_test WHERE id = -1'))[0].n).toBe(1);
  });

  it('while paused, Patroni does not fail over: the alert says so, and a confirmed failover promotes', async () => {
    watch ??= await watchPatroni(bot);
    expect((await bot.run('/cluster maintenance on', person('olga'))).failed).toBeFalsy();
    await watcherLooked(watch!); // …so it knows Patroni is paused
    bot.chat.posts.length = 0;
    await h.killMember('standby');
    const down = await until('the primary-down alert', 20_000, async () => bot.chat.posts.find((p) => p.reply.title === 'Primary down: standby'));
    expect(down.reply.text).toMatch(/Patroni is PAUSED, so it will not fail over on its own/);
    await sleep(3000); // an observation window, not a wait: Patroni (loop_wait 2 s) must not promote while paused
    expect(((await bot.run('/cluster status')).data as StatusData).primary).toBeNull();
    const card = await bot.run('/cluster failover');
    expect(card.failed, card.text).toBeFalsy();
    expect(card.fields!.map((f) => f.label)).toContain('Patroni is paused');
    expect(card.fields!.find((f) => f.label === 'Current leader')?.value).toMatch(/NOT ANSWERING/);
    const done = await bot.press(card.buttons![0].actionId, person('alice'));
    console.log(`[patroni] failover while paused: ${done.title}; ${JSON.stringify(done.data)}`);
    expect(done.data).toMatchObject({ ok: true, kind: 'failover', to: 'primary', primary: 'primary', oldLeader: null });
    expect((await bot.run('/cluster maintenance off', person('olga'))).failed).toBeFalsy();
  });
});
