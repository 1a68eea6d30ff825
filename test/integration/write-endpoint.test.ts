// The PgBouncer write endpoint on a real cluster: /cluster up starts it; a client writing through it
// survives a switchover with 0 errors; after a kill -9 failover the client reaches the new primary
// through the same address; with PgBouncer down a failover still completes and the card says so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';
import { stopWriteEndpoint } from '../../src/cluster/write-endpoint/index.js';
import { freePort, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { AddressLoad } from '../helpers/endpoint-load.js';

/** The status card's first line, "Write endpoint: 127.0.0.1:6432 → standby — the primary itself: …", without its tail. */
const endpointOf = (r: Reply) => /^Write endpoint: (.*?)(?: — the primary itself: .*)?$/m.exec(r.text ?? '')?.[1] ?? `(no endpoint line in: ${r.text})`;

async function confirm(c: TestCluster, card: Reply): Promise<Reply> {
  expect(card.failed, card.text).toBeFalsy();
  const id = card.buttons?.[0]?.actionId;
  expect(id, `no confirm button on "${card.title}": ${card.text}`).toBeTruthy();
  return c.press(id!);
}

describe('write endpoint (PgBouncer) on a real cluster', () => {
  let c: TestCluster;
  let port: number;
  const nodePort = (name: string) => c.app.services.node(name).port;

  beforeAll(async () => {
    port = await freePort();
    c = await startTestCluster({ env: { WRITE_ENDPOINT: 'true', WRITE_ENDPOINT_PORT: String(port) } });
    await c.sql('primary', 'CREATE TABLE proyecto.carga (id bigint PRIMARY KEY, nodo text NOT NULL, at timestamptz NOT NULL DEFAULT now())');
  });
  afterAll(async () => c?.destroy());

  it('/cluster up starts PgBouncer; status shows "Write endpoint: 127.0.0.1:PORT → primary"', async () => {
    const up = await c.run('/cluster up');
    expect(up.text).toMatch(new RegExp(`Write endpoint: 127\\.0\\.0\\.1:${port} → primary \\(PgBouncer started, pid \\d+\\)`));
    expect(endpointOf(await c.run('/cluster status'))).toBe(`127.0.0.1:${port} → primary`);
    const connect = await c.run('/cluster connect standby');
    expect((connect.data as { writeEndpoint: string }).writeEndpoint).toBe(`postgresql://admin@127.0.0.1:${port}/proyecto_db?sslmode=verify-full&sslrootcert=${c.config.tlsDir}/ca.crt`);
  });

  it('a client writing through the endpoint survives a switchover with 0 errors and lands on the new primary', async () => {
    const load = new AddressLoad(c.config, port, 1).start();
    try {
      await load.waitAcked(50);
      expect(load.lastPort).toBe(nodePort('primary'));
      const done = await confirm(c, await c.run('/cluster switchover standby'));
      expect(done.failed, done.text).toBeFalsy();
      const steps = (done.data as { steps: Array<{ step: string; ok: boolean; detail: string }> }).steps;
      expect(steps.find((s) => s.step === 'pause write endpoint')?.detail).toMatch(/paused/);
      expect(steps.find((s) => s.step === 'repoint write endpoint')?.detail).toBe(`127.0.0.1:${port} → standby, resumed`);
      await load.waitAcked(50);
      expect(load.lastPort).toBe(nodePort('standby'));
    } finally {
      await load.stop();
    }
    console.log(`[endpoint] switchover: ${load.acked.length} writes, ${load.errors.length} errors, longest pause ${load.longestPauseMs} ms`);
    expect(load.errors).toEqual([]);
    const n = await c.sql<{ n: string }>('standby', 'SELECT count(*) AS n FROM proyecto.carga WHERE id = ANY($1::bigint[])', [load.acked]);
    expect(Number(n[0].n)).toBe(load.acked.length);
    expect(endpointOf(await c.run('/cluster status'))).toBe(`127.0.0.1:${port} → standby`);
  });

  it('after kill -9 of the primary and a confirmed failover, the same address reaches the new primary', async () => {
    const load = new AddressLoad(c.config, port, 1_000_000).start();
    try {
      await load.waitAcked(30);
      expect(load.lastPort).toBe(nodePort('standby'));
      await c.app.services.runtime.kill(c.app.services.node('standby'));
      const done = await confirm(c, await c.run('/cluster failover primary'));
      expect(done.failed, done.text).toBeFalsy();
      expect(done.title).toMatch(/^Failover done — primary is the primary/);
      await load.waitAcked(30);
      expect(load.lastPort).toBe(nodePort('primary'));
    } finally {
      await load.stop();
    }
    console.log(`[endpoint] crash failover: ${load.errors.length} client errors while the primary was dead; reconnected to primary`);
    expect(endpointOf(await c.run('/cluster status'))).toBe(`127.0.0.1:${port} → primary`);
  });

  it('with PgBouncer down a failover still completes, and the card says the endpoint was not repointed', async () => {
    await c.app.services.runtime.start(c.app.services.node('standby'));
    const rejoin = await c.run('/cluster rejoin standby');
    expect((rejoin.buttons?.length ? await confirm(c, rejoin) : rejoin).failed).toBeFalsy();
    expect(await stopWriteEndpoint(c.config)).toBe(true);
    expect(endpointOf(await c.run('/cluster status'))).toMatch(/PgBouncer is NOT running — \/cluster up starts it/);
    await c.app.services.runtime.kill(c.app.services.node('primary'));
    const done = await confirm(c, await c.run('/cluster failover'));
    expect(done.failed, done.text).toBeFalsy();
    // The endpoint left behind is a warning: the failover is done, with warnings.
    expect(done.title).toMatch(/^Failover done with warnings — standby is the primary/);
    expect(done.text).toMatch(new RegExp(`write endpoint 127\\.0\\.0\\.1:${port} unreachable \\(.+\\): NOT repointed — its configuration now names standby; start it with /cluster up`));
    const up = await c.run('/cluster up');
    expect(up.text).toMatch(new RegExp(`Write endpoint: 127\\.0\\.0\\.1:${port} → standby \\(PgBouncer started`));
    const down = await confirm(c, await c.run('/cluster down'));
    expect(down.text).toMatch(new RegExp(`Write endpoint 127\\.0\\.0\\.1:${port} \\(PgBouncer\\) stopped\\.`));
    expect(endpointOf(await c.run('/cluster status'))).toMatch(/PgBouncer is NOT running/);
  });
});
