// `/cluster up` says a replica is up only once it streams, and says what it saw when one does not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';

interface Outcome {
  node: string;
  action: string;
  replication?: string;
  warning?: boolean;
}

describe('/cluster up on a real local cluster', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startTestCluster({ up: false });
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('creates the cluster and reports each replica streaming, with how long it took', async () => {
    const r = await c.run('/cluster up');
    expect(r.failed, r.text).toBeFalsy();
    expect(r.title).toBe('Cluster up: done');
    expect((r.data as { stanza: string }).stanza).toBe('stanza clusterbot ready');
    const outcomes = (r.data as { outcomes: Outcome[] }).outcomes;
    expect(outcomes.map((o) => [o.node, o.action])).toEqual([['primary', 'initialised'], ['standby', 'cloned'], ['readonly', 'cloned']]);
    for (const o of outcomes.slice(1)) expect(o.replication).toMatch(/^streaming from primary after \d+ ms$/);
    // What the reply promised holds on the first look after it.
    const s = (await c.run('/cluster status')).data as { nodes: Array<{ name: string; streaming: boolean }> };
    expect(s.nodes.filter((n) => n.streaming).map((n) => n.name).sort()).toEqual(['readonly', 'standby']);
  });

  it('started replicas are awaited too: stop both, up again, both stream before the reply', async () => {
    for (const n of ['readonly', 'standby']) expect((await c.run(`/cluster stop ${n}`)).failed).toBeFalsy();
    const r = await c.run('/cluster up');
    expect(r.failed, r.text).toBeFalsy();
    const outcomes = (r.data as { outcomes: Outcome[] }).outcomes;
    expect(outcomes.map((o) => [o.node, o.action])).toEqual([['primary', 'already running'], ['standby', 'started'], ['readonly', 'started']]);
    for (const o of outcomes.slice(1)) expect(o.replication).toMatch(/^streaming from primary after \d+ ms$/);
    expect(r.tables?.[0].rows.find((row) => row[0] === 'standby')?.[1]).toMatch(/^started, streaming from primary after \d+ ms$/);
  });
});
