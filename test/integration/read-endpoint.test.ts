// The HAProxy read endpoint on a real cluster: /cluster up starts it over the streaming replicas; the
// monitor takes out a replica whose replay is paused under write load (real lag) or that stops
// streaming, and brings it back; with no qualifying replica reads go to the primary, or are refused
// when READ_FALLBACK_TO_PRIMARY=false; a reader through the one address keeps working across a
// replica's kill -9 and a failover with at most the one reconnect each event costs it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import type { Reply } from '../../src/chat/reply.js';
import { loadConfig } from '../../src/config.js';
import { startMonitoring, stopMonitoring } from '../../src/monitor/index.js';
import { freePort, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { answeredBy, connectAs, lagBehind, ReadLoad, SERVER_ID_SQL } from '../helpers/endpoint-load.js';
import { alertOf, isAlert, RecordingAdapter } from '../helpers/recording-adapter.js';
import { eventually } from '../helpers/wait.js';

/** The status card's "Read endpoint: …" line, without the label. */
const readLine = (r: Reply) => /^Read endpoint: (.*)$/m.exec(r.text ?? '')?.[1] ?? `(no read endpoint line in: ${r.text})`;
const poolOf = (r: Reply) => (r.data as { readEndpoint?: { members: string[]; fallback: string | null } }).readEndpoint;


/** One session, one read, closed. */
async function oneRead(c: TestCluster, port: number): Promise<void> {
  const client = await connectAs(c.config, '127.0.0.1', port, { connectionTimeoutMillis: 10_000 });
  try {
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('read endpoint (HAProxy) on a real cluster', () => {
  let c: TestCluster;
  let port: number;
  const rec = new RecordingAdapter();
  const MiB = 1024 * 1024;

  beforeAll(async () => {
    port = await freePort();
    c = await startTestCluster({
      env: { READ_ENDPOINT: 'true', READ_ENDPOINT_PORT: String(port), READ_MAX_LAG_BYTES: String(MiB), MONITOR_INTERVAL_SECONDS: '1' },
    });
  });
  afterAll(async () => {
    await stopMonitoring(c.app.services).catch(() => undefined);
    await c?.destroy();
  });


  it('/cluster up starts HAProxy over standby and readonly; sessions reach both replicas and never the primary', async () => {
    const up = await c.run('/cluster up');
    expect(up.text).toMatch(new RegExp(`Read endpoint: 127\\.0\\.0\\.1:${port} → (standby, readonly|NO replica qualifies — reads go to primary) \\(fallback: primary\\)|HAProxy started, pid \\d+`));
    await startMonitoring(c.app);
    await eventually('standby and readonly in the read pool', async () => readLine(await c.run('/cluster status')), (l) => l === `127.0.0.1:${port} → standby, readonly (fallback: primary)`, { timeoutMs: 60_000 });
    const reader = new ReadLoad(c.config, port, 1).start();
    try {
      await answeredBy(c.sql, reader, ['standby', 'readonly'], 60);
    } finally {
      await reader.stop();
    }
    expect(reader.errors).toEqual([]);
    expect(reader.answers.every((a) => a.replica)).toBe(true);
    const connect = await c.run('/cluster connect standby');
    expect((connect.data as { readEndpoint: string }).readEndpoint).toBe(`postgresql://admin@127.0.0.1:${port}/proyecto_db?sslmode=verify-full&sslrootcert=${c.config.tlsDir}/ca.crt`);
  });

  it('a replica whose replay is paused under write load leaves the pool (status says why); resumed, it comes back', async () => {
    await c.sql('readonly', 'SELECT pg_wal_replay_pause()');
    try {
      await lagBehind(c.sql, () => c.app.services.snapshot(), 'readonly', 2 * MiB);
      const line = await eventually('readonly out of the read pool', async () => readLine(await c.run('/cluster status')), (l) => l.startsWith(`127.0.0.1:${port} → standby (fallback: primary)`), { timeoutMs: 60_000 });
      expect(line).toMatch(/readonly out: lag [\d.]+ [KMG]B > 1\.0 MB/);
      const reader = new ReadLoad(c.config, port, 1).start();
      try {
        await answeredBy(c.sql, reader, ['standby'], 30);
      } finally {
        await reader.stop();
      }
      expect(reader.errors).toEqual([]);
    } finally {
      await c.sql('readonly', 'SELECT pg_wal_replay_resume()');
    }
    await eventually('readonly back in the read pool', async () => poolOf(await c.run('/cluster status'))?.members, (m) => m?.join(',') === 'standby,readonly', { timeoutMs: 60_000 });
  });

  it('a replica that stops streaming (its primary_conninfo names a closed port) leaves the pool and returns when it streams again', async () => {
    const [{ conninfo }] = await c.sql<{ conninfo: string }>('standby', "SELECT current_setting('primary_conninfo') AS conninfo");
    await c.sql('standby', `ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=1 user=replicator'`);
    await c.sql('standby', 'SELECT pg_reload_conf()');
    try {
      const line = await eventually('standby out of the read pool', async () => readLine(await c.run('/cluster status')), (l) => l.startsWith(`127.0.0.1:${port} → readonly (fallback: primary)`), { timeoutMs: 60_000 });
      expect(line).toMatch(/standby out: not streaming/);
    } finally {
      await c.sql('standby', `ALTER SYSTEM SET primary_conninfo = '${conninfo.replace(/'/g, "''")}'`);
      await c.sql('standby', 'SELECT pg_reload_conf()');
    }
    await eventually('standby back in the read pool', async () => poolOf(await c.run('/cluster status'))?.members, (m) => m?.join(',') === 'standby,readonly', { timeoutMs: 60_000 });
  });

  it('with no qualifying replica, reads go to the primary; with READ_FALLBACK_TO_PRIMARY=false they are refused', async () => {
    await c.sql('standby', 'SELECT pg_wal_replay_pause()');
    await c.sql('readonly', 'SELECT pg_wal_replay_pause()');
    let strict: App | null = null;
    try {
      await lagBehind(c.sql, () => c.app.services.snapshot(), 'standby', 2 * MiB);
      await lagBehind(c.sql, () => c.app.services.snapshot(), 'readonly', 2 * MiB);
      await eventually('the primary as the only read target', async () => readLine(await c.run('/cluster status')), (l) => l.startsWith(`127.0.0.1:${port} → NO replica qualifies — reads go to primary`), { timeoutMs: 60_000 });
      const reader = new ReadLoad(c.config, port, 1).start();
      try {
        await answeredBy(c.sql, reader, ['primary'], 20);
      } finally {
        await reader.stop();
      }
      expect(reader.errors).toEqual([]);
      expect(reader.answers.slice(-20).every((a) => !a.replica)).toBe(true);

      // The same cluster, the bot restarted with the fallback off.
      await stopMonitoring(c.app.services);
      strict = await createApp(loadConfig({ ...c.env, READ_FALLBACK_TO_PRIMARY: 'false' }));
      strict.notifier.add(rec);
      const mark = rec.mark();
      await startMonitoring(strict);
      // The monitor says so on its own: an alert with each replica's reason and the next step.
      const alert = await rec.waitFor(isAlert('post', 'read_pool_empty:cluster'), 'the "no replica qualifies" alert', { after: mark, timeoutMs: 60_000 });
      expect(alert.reply.title).toMatch(/No replica qualifies for the read endpoint/);
      expect(alertOf(alert)).toMatchObject({ severity: 'crit', value: expect.stringMatching(/standby out: lag [\d.]+ [KMG]B > 1\.0 MB; readonly out: lag/) });
      expect(alert.reply.text).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} refuses every new read session`));
      expect(alert.reply.text).toMatch(/READ_FALLBACK_TO_PRIMARY=true/);
      const status = () => strict!.router.handle('/cluster status', c.admin, { platform: 'shell', channel: 'test' });
      await eventually('reads refused', async () => readLine(await status()), (l) => l.startsWith(`127.0.0.1:${port} → NO replica qualifies — reads are refused`), { timeoutMs: 60_000 });
      // A reload takes effect a moment after the file changes: the first refused session is the proof.
      const refusal = await eventually('a new session through the read endpoint refused', () => oneRead(c, port).then(() => 'answered', (e: Error) => e.message), (m) => m !== 'answered', { timeoutMs: 30_000 });
      expect(refusal).toMatch(/terminated|closed|ECONNRESET|ECONNREFUSED/i);
      await expect(oneRead(c, port)).rejects.toThrow(/terminated|closed|ECONNRESET|ECONNREFUSED/i);
    } finally {
      const resumed = rec.mark();
      await c.sql('standby', 'SELECT pg_wal_replay_resume()');
      await c.sql('readonly', 'SELECT pg_wal_replay_resume()');
      if (strict) {
        await rec.waitFor(isAlert('thread', 'read_pool_empty:cluster', 'resolved'), 'the read endpoint alert resolved', { after: resumed, timeoutMs: 60_000 });
        await stopMonitoring(strict.services);
        await strict.close();
      }
      await startMonitoring(c.app);
    }
    await eventually('both replicas back in the read pool', async () => poolOf(await c.run('/cluster status'))?.members, (m) => m?.join(',') === 'standby,readonly', { timeoutMs: 60_000 });
  });

  it('a switchover updates the read pool when it completes, not at the next monitor loop (monitor stopped)', async () => {
    await eventually('both replicas in the read pool', async () => poolOf(await c.run('/cluster status'))?.members, (m) => m?.join(',') === 'standby,readonly', { timeoutMs: 60_000 });
    await stopMonitoring(c.app.services);
    try {
      for (const [to, from] of [['standby', 'primary'], ['primary', 'standby']]) {
        const card = await c.run(`/cluster switchover ${to}`);
        expect(card.buttons?.length, card.text).toBeTruthy();
        const done = await c.press(card.buttons![0].actionId);
        expect(done.failed, done.text).toBeFalsy();
        expect(JSON.stringify(done)).toMatch(new RegExp(`update read endpoint.*127\\.0\\.0\\.1:${port} → `));
        // No monitor runs: what HAProxy has in force now is what the switchover put there.
        const pool = poolOf(await c.run('/cluster status'));
        expect(pool?.fallback, JSON.stringify(pool)).toBe(to);
        expect(pool?.members).not.toContain(to);
        expect(pool?.members).toContain('readonly');
        const reader = new ReadLoad(c.config, port, 1).start();
        try {
          await answeredBy(c.sql, reader, pool!.members, 20);
        } finally {
          await reader.stop();
        }
        expect(reader.errors, `${from} → ${to}`).toEqual([]);
        expect(reader.answers.every((a) => a.replica), `${from} → ${to}: a session reached the new primary`).toBe(true);
      }
    } finally {
      await startMonitoring(c.app);
    }
  });

  it("a reader keeps working across a replica's kill -9 and a failover, with at most one reconnect per event", async () => {
    await eventually('both replicas in the read pool', async () => poolOf(await c.run('/cluster status'))?.members, (m) => m?.join(',') === 'standby,readonly', { timeoutMs: 60_000 });
    // Long sessions (about 100 queries each), so the killed replica holds the reader's session when it dies.
    const reader = new ReadLoad(c.config, port, 100).start();
    const perEvent: Record<string, number> = {};
    let baseline = 0;
    try {
      await answeredBy(c.sql, reader, ['standby', 'readonly'], 50);
      baseline = reader.errors.length;
      // Kill the replica that answered last, so the reader's own session dies with it.
      const [{ id }] = await c.sql<{ id: string }>('standby', `SELECT ${SERVER_ID_SQL} AS id`);
      const victim = reader.answers.at(-1)!.server === id ? 'standby' : 'readonly';
      const survivor = victim === 'standby' ? 'readonly' : 'standby';
      let before = reader.errors.length;
      await c.app.services.runtime.kill(c.app.services.node(victim));
      await eventually(`${victim} out of the read pool`, async () => poolOf(await c.run('/cluster status'))?.members, (m) => m?.join(',') === survivor, { timeoutMs: 60_000 });
      await answeredBy(c.sql, reader, [survivor], 50);
      console.log(`[read endpoint] kill -9 ${victim}: ${reader.errors.length - before} errors while it was out`);
      // The crash event lasts until the replica is back in the pool and serving.
      await c.app.services.runtime.start(c.app.services.node(victim));
      await eventually(`${victim} back in the read pool`, async () => poolOf(await c.run('/cluster status'))?.members, (m) => m?.join(',') === 'standby,readonly', { timeoutMs: 90_000 });
      await answeredBy(c.sql, reader, ['standby', 'readonly'], 50);
      perEvent[`kill -9 ${victim}, restart`] = reader.errors.length - before;

      before = reader.errors.length;
      await c.app.services.runtime.kill(c.app.services.node('primary'));
      const card = await c.run('/cluster failover standby');
      expect(card.buttons?.length, card.text).toBeTruthy();
      const done = await c.press(card.buttons![0].actionId);
      expect(done.failed, done.text).toBeFalsy();
      await eventually('readonly the read pool of the new primary standby', async () => poolOf(await c.run('/cluster status')), (p) => p?.members.join(',') === 'readonly' && p.fallback === 'standby', { timeoutMs: 90_000 });
      await answeredBy(c.sql, reader, ['readonly'], 50);
      perEvent['failover to standby'] = reader.errors.length - before;
    } finally {
      await reader.stop();
    }
    console.log(`[read endpoint] ${reader.answers.length} reads, errors per event ${JSON.stringify(perEvent)}: ${reader.errors.join(' | ') || 'none'}`);
    expect(baseline, `errors before any event: ${reader.errors.join(' | ')}`).toBe(0);
    for (const [event, n] of Object.entries(perEvent)) expect(n, `${event}: ${reader.errors.join(' | ')}`).toBeLessThanOrEqual(1);
  });

  it('/cluster down stops HAProxy with the cluster, and status says so', async () => {
    await stopMonitoring(c.app.services);
    const card = await c.run('/cluster down');
    expect(card.buttons?.length, card.text).toBeTruthy();
    const down = await c.press(card.buttons![0].actionId);
    expect(down.text).toMatch(new RegExp(`Read endpoint 127\\.0\\.0\\.1:${port} \\(HAProxy\\) stopped\\.`));
    expect(readLine(await c.run('/cluster status'))).toMatch(/HAProxy is NOT running — \/cluster up starts it/);
    await expect(oneRead(c, port)).rejects.toThrow(/ECONNREFUSED/);
  });
});
