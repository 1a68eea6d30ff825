// The worst night: the primary crashed and its data directory is gone. Fencing cannot touch data
// that does not exist, yet the failover must still go through, and the lost node must stay marked
// so that whatever is restored there later starts read-only until it is rejoined.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../src/runtime/local.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';

interface StatusData {
  primary: string | null;
  writable: string[];
  nodes: Array<{ name: string; role: string; fenced: boolean; upstream: string | null; streaming: boolean }>;
}

describe('failover after the primary lost its disk', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startTestCluster();
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('promotes the standby, keeps the lost node fenced, and rejoin re-clones it', async () => {
    const runtime = c.app.services.runtime as LocalRuntime;
    const primary = c.app.services.node('primary');
    await runtime.kill(primary);
    rmSync(runtime.paths(primary).data, { recursive: true, force: true });

    const card = await c.run('/cluster failover');
    expect(card.failed, card.text).toBeFalsy();
    const done = await c.press(card.buttons![0].actionId);
    expect(done.failed, done.text).toBeFalsy();

    const after = (await c.run('/cluster status')).data as StatusData;
    expect(after.writable).toEqual(['standby']);
    expect(after.nodes.find((n) => n.name === 'primary')).toMatchObject({ role: 'down', fenced: true });
    expect(after.nodes.find((n) => n.name === 'readonly')).toMatchObject({ role: 'replica', upstream: 'standby' });

    const rejoin = await c.run('/cluster rejoin primary');
    expect(rejoin.failed, rejoin.text).toBeFalsy();
    const healed = (await c.run('/cluster status')).data as StatusData;
    expect(healed.writable).toEqual(['standby']);
    expect(healed.nodes.find((n) => n.name === 'primary')).toMatchObject({ role: 'replica', fenced: false, upstream: 'standby', streaming: true });
  });
});
