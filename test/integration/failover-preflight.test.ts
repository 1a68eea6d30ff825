// Refusals before anything changes: bad arguments, a lagging or down target, no eligible replica,
// another operation in progress, an expired confirmation. The cluster must be untouched after each.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockPath } from '../../src/cluster/failover/lock.js';
import { principal, startTestCluster, type TestCluster } from '../helpers/cluster.js';

const LIMIT = 1024 * 1024;

describe('failover and switchover preflight refusals', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startTestCluster({ env: { FAILOVER_MAX_LAG_BYTES: String(LIMIT), PENDING_ACTION_TTL_SECONDS: '1' } });
  });
  afterAll(async () => {
    await c?.destroy();
  });

  async function expectUnchanged(): Promise<void> {
    const data = (await c.run('/cluster status')).data as { primary: string; writable: string[]; nodes: Array<{ name: string; fenced: boolean }> };
    expect(data.primary).toBe('primary');
    expect(data.writable).toEqual(['primary']);
    expect(data.nodes.some((n) => n.fenced)).toBe(false);
  }

  it('refuses bad arguments with one line and changes nothing', async () => {
    for (const [text, pattern] of [
      ['/cluster failover nosuchnode', /unknown node "nosuchnode" — nodes are: primary, standby, readonly/],
      ['/cluster rejoin', /rejoin needs <node>.*usage: \/cluster rejoin <node>/],
      ['/cluster follow', /follow needs <node>/],
      ['/cluster switchover standby readonly', /too many arguments for switchover/],
      ['/cluster failover primary', /primary is already the writable primary/],
      ['/cluster failover readonly', /readonly is a no-failover node and is never promoted/],
      ['/cluster rejoin primary', /primary is the writable primary — there is nothing to rejoin/],
    ] as const) {
      const r = await c.run(text);
      expect(r.failed, text).toBe(true);
      expect(r.text, text).toMatch(pattern);
      expect(r.text!.split('\n'), text).toHaveLength(1);
    }
    const viewer = await c.run('/cluster failover', principal('victor'));
    expect(viewer.text).toMatch(/victor is a viewer; \/cluster failover needs admin/);
    const operator = await c.run('/cluster switchover', principal('olga'));
    expect(operator.text).toMatch(/olga is an? operator; \/cluster switchover needs admin/);
    await expectUnchanged();
  });

  it('refuses a target whose replay lags beyond FAILOVER_MAX_LAG_BYTES, and says how to proceed', async () => {
    await c.sql('standby', 'SELECT pg_wal_replay_pause()');
    await c.sql('primary', "CREATE TABLE proyecto.relleno AS SELECT g AS id, repeat('x', 500) AS pad FROM generate_series(1, 5000) g");
    const r = await c.run('/cluster failover');
    expect(r.failed).toBe(true);
    expect(r.text).toMatch(/^standby is .* behind, more than FAILOVER_MAX_LAG_BYTES \(1\.0 MB\) — replay is paused on standby: run SELECT pg_wal_replay_resume\(\) there .*add `force`/);
    const sw = await c.run('/cluster switchover standby');
    expect(sw.failed).toBe(true);
    expect(sw.text).toMatch(/replay is paused on standby — run SELECT pg_wal_replay_resume\(\)/);
    const forced = await c.run('/cluster failover force');
    expect(forced.buttons?.[0].label).toBe('Promote standby');
    await c.press(forced.buttons![1].actionId);
    await c.sql('standby', 'SELECT pg_wal_replay_resume()');
    await expectUnchanged();
  });

  it('refuses a target that is down, and says when no replica is eligible', async () => {
    expect((await c.run('/cluster stop standby')).failed).toBeFalsy();
    const down = await c.run('/cluster failover standby');
    expect(down.text).toMatch(/^standby is down \(stopped\) — start it with \/cluster start standby/);
    const none = await c.run('/cluster failover');
    expect(none.text).toMatch(/^no failover-eligible replica is available: standby is down \(stopped\); readonly is a no-failover node — run \/cluster start standby, then run \/cluster failover again/);
    const sw = await c.run('/cluster switchover');
    expect(sw.failed).toBe(true);
    expect((await c.run('/cluster start standby')).failed).toBeFalsy();
    await expectUnchanged();
  });

  it('refuses a second operation while one runs in another process', async () => {
    const other: ChildProcess = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      writeFileSync(lockPath(c.home), JSON.stringify({ op: 'failover', by: 'alice', pid: other.pid, at: new Date().toISOString(), token: 'x' }));
      for (const text of ['/cluster failover', '/cluster switchover', '/cluster rejoin standby']) {
        const r = await c.run(text);
        expect(r.failed, text).toBe(true);
        expect(r.text, text).toMatch(/^failover is already in progress, started by alice at .* \(pid \d+\) — wait for it to finish/);
      }
    } finally {
      other.kill('SIGKILL');
    }
    await new Promise((r) => other.once('exit', r));
    // The holder died: its lock is stale and no longer blocks.
    const card = await c.run('/cluster switchover');
    expect(card.buttons?.[0].label).toBe('Switch over to standby');
    await c.press(card.buttons![1].actionId);
    rmSync(lockPath(c.home), { force: true });
  });

  it('refuses and audits an expired confirmation', async () => {
    const card = await c.run('/cluster failover');
    expect(card.buttons?.[0].label).toBe('Promote standby');
    await new Promise((r) => setTimeout(r, 1600));
    const r = await c.press(card.buttons![0].actionId, principal('alice'));
    expect(r.failed).toBe(true);
    expect(r.text).toMatch(/this confirmation expired at .* — run \/cluster failover again/);
    expect(c.app.services.audit.tail(1)[0]).toMatchObject({ kind: 'refusal', user: 'alice', command: 'failover', outcome: 'stale confirmation' });
    const unknown = await c.press('cb:confirm:0000');
    expect(unknown.text).toMatch(/unknown or already-used confirmation/);
    await expectUnchanged();
  });
});
