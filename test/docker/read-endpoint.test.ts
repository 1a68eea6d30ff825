// The read endpoint on Docker: docker-compose --profile read-endpoint starts the haproxy service next to
// the nodes; the bot (RUNTIME=docker, on the host) keeps its pool through `docker exec` and SIGUSR2.
// Sessions through its published port reach both replicas; a replica whose replay is paused under write
// load leaves the pool; with none qualifying reads go to the primary; a reader keeps working across a
// replica's docker kill and a failover with at most one reconnect per event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';
import { startMonitoring, stopMonitoring } from '../../src/monitor/index.js';
import { answeredBy, lagBehind, ReadLoad, SERVER_ID_SQL } from '../helpers/endpoint-load.js';
import { dockerKill, newDockerCluster, sh, twoStreamingReplicas, type DockerCluster } from '../helpers/docker.js';
import { eventually } from '../helpers/wait.js';

const readLine = (r: Reply) => /^Read endpoint: (.*)$/m.exec(r.text ?? '')?.[1] ?? `(no read endpoint line in: ${r.text})`;
const poolOf = (r: Reply) => (r.data as { readEndpoint?: { members: string[]; fallback: string | null } }).readEndpoint;
const MiB = 1024 * 1024;

describe('read endpoint (compose service haproxy) on a real Docker engine', () => {
  let c: DockerCluster;
  let port: number;
  const pool = async () => poolOf(await c.run('/cluster status'));

  beforeAll(async () => {
    c = await newDockerCluster('readep', { env: { READ_MAX_LAG_BYTES: String(MiB), MONITOR_INTERVAL_SECONDS: '1' } });
    port = c.config.READ_ENDPOINT_PORT;
    await c.compose('--profile', 'read-endpoint', 'up', '-d');
    await twoStreamingReplicas(c);
    await startMonitoring(c.app);
  });
  afterAll(async () => {
    await stopMonitoring(c.app.services).catch(() => undefined);
    await c?.destroy();
  });


  it('/cluster up reloads the running haproxy container; status shows both replicas in the pool; sessions reach both, never the primary', async () => {
    const up = await c.run('/cluster up');
    expect(up.text).toMatch(new RegExp(`Read endpoint: 127\\.0\\.0\\.1:${port} → .+ \\(HAProxy running, reloaded\\)`));
    await eventually('standby and readonly in the read pool', async () => readLine(await c.run('/cluster status')), (l) => l === `127.0.0.1:${port} → standby, readonly (fallback: primary)`, { timeoutMs: 120_000 });
    const reader = new ReadLoad(c.config, port, 1).start();
    try {
      await answeredBy(c.sql, reader, ['standby', 'readonly'], 60, 120_000);
    } finally {
      await reader.stop();
    }
    expect(reader.errors).toEqual([]);
    expect(reader.answers.every((a) => a.replica)).toBe(true);
  });

  it('a replica whose replay is paused under write load leaves the pool; with none qualifying, reads go to the primary', async () => {
    await c.sql('readonly', 'SELECT pg_wal_replay_pause()');
    try {
      await lagBehind(c.sql, () => c.app.services.snapshot(), 'readonly', 2 * MiB);
      const line = await eventually('readonly out of the read pool', async () => readLine(await c.run('/cluster status')), (l) => l.startsWith(`127.0.0.1:${port} → standby (fallback: primary)`), { timeoutMs: 120_000 });
      expect(line).toMatch(/readonly out: lag [\d.]+ [KMG]B > 1\.0 MB/);
      await c.sql('standby', 'SELECT pg_wal_replay_pause()');
      await lagBehind(c.sql, () => c.app.services.snapshot(), 'standby', 2 * MiB);
      await eventually('the primary as the only read target', async () => readLine(await c.run('/cluster status')), (l) => l.startsWith(`127.0.0.1:${port} → NO replica qualifies — reads go to primary`), { timeoutMs: 120_000 });
      const reader = new ReadLoad(c.config, port, 1).start();
      try {
        await answeredBy(c.sql, reader, ['primary'], 20, 120_000);
      } finally {
        await reader.stop();
      }
      expect(reader.errors).toEqual([]);
    } finally {
      await c.sql('readonly', 'SELECT pg_wal_replay_resume()');
      await c.sql('standby', 'SELECT pg_wal_replay_resume()');
    }
    await eventually('both replicas back in the read pool', pool, (p) => p?.members.join(',') === 'standby,readonly', { timeoutMs: 120_000 });
  });

  it("a reader keeps working across a replica's docker kill and a failover, with at most one reconnect per event", async () => {
    // Long sessions (about 100 queries each), so the killed replica holds the reader's session when it dies.
    const reader = new ReadLoad(c.config, port, 100).start();
    const perEvent: Record<string, number> = {};
    let baseline = 0;
    try {
      await answeredBy(c.sql, reader, ['standby', 'readonly'], 50, 120_000);
      baseline = reader.errors.length;
      const [{ id }] = await c.sql<{ id: string }>('standby', `SELECT ${SERVER_ID_SQL} AS id`);
      const victim = reader.answers.at(-1)!.server === id ? 'standby' : 'readonly';
      const survivor = victim === 'standby' ? 'readonly' : 'standby';
      let before = reader.errors.length;
      await dockerKill(c, victim);
      await eventually(`${victim} out of the read pool`, pool, (p) => p?.members.join(',') === survivor, { timeoutMs: 120_000 });
      await answeredBy(c.sql, reader, [survivor], 50, 120_000);
      await sh('docker', ['start', await c.container(victim)]);
      await eventually(`${victim} back in the read pool`, pool, (p) => p?.members.join(',') === 'standby,readonly', { timeoutMs: 180_000 });
      await answeredBy(c.sql, reader, ['standby', 'readonly'], 50, 120_000);
      perEvent[`docker kill ${victim}, start`] = reader.errors.length - before;

      before = reader.errors.length;
      await dockerKill(c, 'primary');
      const card = await c.run('/cluster failover standby');
      expect(card.failed, card.text).toBeFalsy();
      const done = await c.press(card.buttons![0].actionId);
      expect(done.failed, done.text).toBeFalsy();
      await eventually('readonly the read pool of the new primary standby', pool, (p) => p?.members.join(',') === 'readonly' && p.fallback === 'standby', { timeoutMs: 180_000 });
      await answeredBy(c.sql, reader, ['readonly'], 50, 120_000);
      perEvent['failover to standby'] = reader.errors.length - before;
    } finally {
      await reader.stop();
    }
    console.log(`[docker read endpoint] ${reader.answers.length} reads, errors per event ${JSON.stringify(perEvent)}: ${reader.errors.join(' | ') || 'none'}`);
    expect(baseline, `errors before any event: ${reader.errors.join(' | ')}`).toBe(0);
    for (const [event, n] of Object.entries(perEvent)) expect(n, `${event}: ${reader.errors.join(' | ')}`).toBeLessThanOrEqual(1);
  });
});
