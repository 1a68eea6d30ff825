// The write endpoint on Docker: docker-compose --profile endpoint starts the pgbouncer service next to
// the nodes; the bot (RUNTIME=docker, on the host) sees it in /cluster status, a client writing
// through its published port survives a switchover with 0 errors, and after docker kill of the
// primary and a confirmed failover the same address reaches the new primary — with SYNC_MODE on, so
// the card says "0 bytes at risk — synchronous" and every row acknowledged through the endpoint is there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';
import { AddressLoad } from '../helpers/endpoint-load.js';
import { newDockerCluster, sh, until, type DockerCluster } from '../helpers/docker.js';

const field = (r: Reply, label: string) => r.fields?.find((f) => f.label === label)?.value ?? '';
/** The status card's first line, "Write endpoint: 127.0.0.1:6432 → standby — the primary itself: …", without its tail. */
const endpointOf = (r: Reply) => /^Write endpoint: (.*?)(?: — the primary itself: .*)?$/m.exec(r.text ?? '')?.[1] ?? `(no endpoint line in: ${r.text})`;

async function confirm(c: DockerCluster, card: Reply): Promise<Reply> {
  expect(card.failed, card.text).toBeFalsy();
  expect(card.buttons?.length, `no confirm button on "${card.title}": ${card.text}`).toBeTruthy();
  return c.press(card.buttons![0].actionId);
}

describe('write endpoint (compose service pgbouncer) on a real Docker engine', () => {
  let c: DockerCluster;
  let port: number;
  beforeAll(async () => {
    c = await newDockerCluster('endpoint');
    port = c.config.WRITE_ENDPOINT_PORT;
    await c.compose('--profile', 'endpoint', 'up', '-d');
    await until('one primary and two streaming replicas', async () => {
      const s = await c.app.services.snapshot();
      return s.primary === 'primary' && s.nodes.filter((n) => n.role === 'replica' && n.streaming).length === 2;
    });
    await c.sql('primary', 'CREATE TABLE proyecto.carga (id bigint PRIMARY KEY, nodo text NOT NULL, at timestamptz NOT NULL DEFAULT now())');
  });
  afterAll(async () => c?.destroy());

  it('/cluster sync on makes standby synchronous on containers too', async () => {
    const done = await confirm(c, await c.run('/cluster sync on'));
    expect(done.title).toBe('Synchronous replication: on');
    await until('standby synchronous in /cluster status', async () => /^on — standby synchronous/.test(field(await c.run('/cluster status'), 'Sync replication')), 60_000);
  });

  it('status shows "Write endpoint: 127.0.0.1:PORT → primary"; a client through it survives a switchover with 0 errors', async () => {
    await until('the endpoint in /cluster status', async () => endpointOf(await c.run('/cluster status')) === `127.0.0.1:${port} → primary`, 60_000);
    const load = new AddressLoad(c.config, port, 1).start();
    try {
      await load.waitAcked(50, 60_000);
      const done = await confirm(c, await c.run('/cluster switchover standby'));
      expect(done.failed, done.text).toBeFalsy();
      const steps = (done.data as { steps: Array<{ step: string; detail: string }> }).steps;
      expect(steps.find((s) => s.step === 'repoint write endpoint')?.detail).toBe(`127.0.0.1:${port} → standby, resumed`);
      await load.waitAcked(50, 60_000);
    } finally {
      await load.stop();
    }
    console.log(`[docker endpoint] switchover: ${load.acked.length} writes, ${load.errors.length} errors, longest pause ${load.longestPauseMs} ms`);
    expect(load.errors).toEqual([]);
    const n = await c.sql<{ n: string }>('standby', 'SELECT count(*) AS n FROM proyecto.carga WHERE id = ANY($1::bigint[])', [load.acked]);
    expect(Number(n[0].n)).toBe(load.acked.length);
    expect(endpointOf(await c.run('/cluster status'))).toBe(`127.0.0.1:${port} → standby`);
  });

  it('docker kill of the (synchronous) primary → card says 0 bytes at risk — synchronous; the same address reaches the new primary; no acked row lost', async () => {
    await until('primary synchronous again after the switchover', async () => /^on — primary synchronous/.test(field(await c.run('/cluster status'), 'Sync replication')), 60_000);
    const load = new AddressLoad(c.config, port, 1_000_000).start();
    try {
      await load.waitAcked(50, 60_000);
      await sh('docker', ['kill', await c.container('standby')]);
      const card = await c.run('/cluster failover');
      expect(field(card, 'Target')).toMatch(/^primary /);
      expect(field(card, 'Data at risk'), card.text).toBe('0 bytes at risk — synchronous');
      const done = await confirm(c, card);
      expect(done.failed, done.text).toBeFalsy();
      await load.waitAcked(20, 60_000);
    } finally {
      await load.stop();
    }
    const r = await c.sql<{ n: string }>('primary', 'SELECT count(*) AS n FROM proyecto.carga WHERE id = ANY($1::bigint[])', [load.acked]);
    console.log(`[docker endpoint] crash failover: ${load.acked.length} acked through the endpoint, ${r[0].n} on the new primary, ${load.errors.length} client errors while it was dead`);
    expect(Number(r[0].n)).toBe(load.acked.length);
    expect(endpointOf(await c.run('/cluster status'))).toBe(`127.0.0.1:${port} → primary`);
  });
});
