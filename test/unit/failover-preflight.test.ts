// The failover decisions on constructed snapshots: target choice, lag and risk, who is ahead,
// who gets fenced. (The same functions run on a real cluster in test/integration/failover*.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { ClusterSnapshot, NodeStatus } from '../../src/cluster/inspect.js';
import { busyReason, lockPath, withOperationLock } from '../../src/cluster/failover/lock.js';
import { chooseTarget, planFailover, type FailoverPlan } from '../../src/cluster/failover/preflight.js';
import { preflightFailover } from '../../src/cluster/failover/failover.js';
import type { Services } from '../../src/core/context.js';

const config = loadConfig({ POSTGRES_ADMIN_PASSWORD: 'a'.repeat(12), POSTGRES_REPLICATOR_PASSWORD: 'b'.repeat(12), FAILOVER_MAX_LAG_BYTES: '1000' });

function node(name: string, over: Partial<NodeStatus>): NodeStatus {
  return {
    name, host: '127.0.0.1', port: 1, failover: name !== 'readonly', role: 'replica', up: true, running: true, error: null, timeline: 1,
    lsn: null, receiveLsn: null, replayLsn: null, lagBytes: 0, lagSeconds: 0, replayPaused: false, streaming: false, upstream: null,
    syncState: null, fenced: false, archiver: null, replication: [], version: 150000, startedAt: null, ...over,
  };
}

function snap(nodes: NodeStatus[]): ClusterSnapshot {
  const writable = nodes.filter((n) => n.role === 'primary').map((n) => n.name);
  return { takenAt: '', durationMs: 0, nodes, primary: writable.length === 1 ? writable[0] : null, writable };
}

const deadPrimary = node('primary', { role: 'down', up: false, running: false, error: 'stopped' });

describe('failover preflight', () => {
  it('picks the eligible replica with the most WAL and counts what the target lacks as data at risk (a floor when the primary is dead)', () => {
    const s = snap([
      deadPrimary,
      node('standby', { receiveLsn: '0/5000100', replayLsn: '0/5000100' }),
      node('readonly', { receiveLsn: '0/5000300', replayLsn: '0/5000300' }),
    ]);
    // `force`: promoted as it is, so what readonly has beyond it is at risk.
    const plan = planFailover(s, config, undefined, true) as FailoverPlan;
    expect(plan).toMatchObject({ target: 'standby', oldPrimary: 'primary', fence: ['primary'], followers: ['readonly'], riskBytes: 512, lagBytes: 512, riskIsFloor: true, catchup: null });
    expect(plan.ahead).toEqual([{ name: 'readonly', failover: false, bytes: 512, lsn: '0/5000300' }]);
    expect(plan.targetLsn).toBe('0/5000100');
    expect(plan.primaryState).toMatch(/^primary is down \(stopped\)/);
  });

  it('without `force`, a target behind a surviving replica first catches up from the most advanced one: nothing at risk among the living', () => {
    const s = snap([
      deadPrimary,
      node('standby', { receiveLsn: '0/5000100', replayLsn: '0/5000100' }),
      node('readonly', { receiveLsn: '0/5000300', replayLsn: '0/5000200' }),
      node('other', { receiveLsn: '0/5000200', replayLsn: '0/5000200', failover: false }),
    ]);
    const plan = planFailover(s, config, undefined, false) as FailoverPlan;
    expect(plan.catchup).toEqual({ from: 'readonly', fromLsn: '0/5000100', toLsn: '0/5000300', bytes: 512 });
    expect(plan).toMatchObject({ target: 'standby', riskBytes: 0, lagBytes: 512 });
    // A target lagging past FAILOVER_MAX_LAG_BYTES is fine when the catch-up closes the gap.
    const far = snap([deadPrimary, node('standby', { receiveLsn: '0/4000000', replayLsn: '0/4000000' }), node('readonly', { receiveLsn: '0/5000000', replayLsn: '0/5000000' })]);
    expect((planFailover(far, config, undefined, false) as FailoverPlan).catchup).toMatchObject({ from: 'readonly', bytes: 16777216 });
    expect(planFailover(far, config, undefined, true)).toMatchObject({ catchup: null, riskBytes: 16777216 });
    // Nobody ahead: nothing to catch up.
    const even = snap([deadPrimary, node('standby', { receiveLsn: '0/5000300', replayLsn: '0/5000300' }), node('readonly', { receiveLsn: '0/5000300', replayLsn: '0/5000300' })]);
    expect((planFailover(even, config, undefined, false) as FailoverPlan).catchup).toBeNull();
  });

  it('measures lag on replay, so a paused replica that received everything is still refused', () => {
    const s = snap([
      node('primary', { role: 'primary', lsn: '0/6000000' }),
      node('standby', { receiveLsn: '0/6000000', replayLsn: '0/5000000', replayPaused: true, streaming: true, upstream: 'primary' }),
      node('readonly', { receiveLsn: '0/6000000', replayLsn: '0/6000000' }),
    ]);
    expect(planFailover(s, config, 'standby', false)).toMatch(/^standby is 16 MB \(16777216 bytes\) behind, more than FAILOVER_MAX_LAG_BYTES .* replay is paused on standby/);
    expect(planFailover(s, config, 'standby', true)).toMatchObject({ target: 'standby', riskBytes: 0, riskIsFloor: false, fence: ['primary'] });
    // readonly happens to have received a little more (a catch-up would be planned): the paused target's
    // own replay lag is still what is weighed, since a catch-up waits for a replay that never comes.
    const racing = snap([
      node('primary', { role: 'primary', lsn: '0/6000000' }),
      node('standby', { receiveLsn: '0/5F00000', replayLsn: '0/5000000', replayPaused: true, streaming: true, upstream: 'primary' }),
      node('readonly', { receiveLsn: '0/6000000', replayLsn: '0/6000000' }),
    ]);
    expect(planFailover(racing, config, 'standby', false)).toMatch(/^standby is 16 MB \(16777216 bytes\) behind, more than FAILOVER_MAX_LAG_BYTES .* replay is paused on standby/);
  });

  it('says why no replica is eligible and what to do', () => {
    const s = snap([deadPrimary, node('standby', { up: false, role: 'down', error: 'stopped' }), node('readonly', {})]);
    expect(chooseTarget(s)).toMatch(/^no failover-eligible replica is available: primary is down \(stopped\); standby is down \(stopped\); readonly is a no-failover node — run \/cluster start primary or \/cluster start standby, then run \/cluster failover again/);
    expect(planFailover(s, config, 'readonly', true)).toMatch(/^readonly is a no-failover node and is never promoted/);
    expect(planFailover(snap([deadPrimary, node('standby', { fenced: true })]), config, 'standby', true)).toMatch(/^standby is fenced .* \/cluster rejoin standby/);
  });

  it('refuses when two nodes accept writes', () => {
    const s = snap([node('primary', { role: 'primary', lsn: '0/1' }), node('standby', { role: 'primary', lsn: '0/1' })]);
    expect(planFailover(s, config, undefined, true)).toMatch(/^primary and standby all accept writes/);
  });
});

describe('the operation lock', () => {
  it('refuses a second operation while one runs, and ignores a lock left by a dead process', async () => {
    const home = mkdtempSync(join(tmpdir(), 'clusterbot-lock-'));
    try {
      await withOperationLock(home, 'failover', 'alice', async () => {
        expect(busyReason(home)).toMatch(/^failover is already in progress, started by alice/);
        await expect(withOperationLock(home, 'rejoin', 'bob', async () => 1)).rejects.toThrow(/failover is already in progress, started by alice/);
      });
      expect(busyReason(home)).toBeNull();
      writeFileSync(lockPath(home), JSON.stringify({ op: 'switchover', by: 'ghost', pid: 2 ** 22 + 1, at: new Date().toISOString(), token: 't' }));
      expect(busyReason(home)).toBeNull();
      expect(await withOperationLock(home, 'rejoin', 'bob', async () => 'ran')).toBe('ran');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('the failover preflight on live state', () => {
  const late = node('standby', { up: false, role: 'down', error: 'no answer (timed out after 1500 ms)' });
  const answering = node('standby', { receiveLsn: '0/5000100', replayLsn: '0/5000100' });
  /** Services whose snapshots are these, one per round; returns the rounds taken. */
  const decide = async (rounds: ClusterSnapshot[]) => {
    const home = mkdtempSync(join(tmpdir(), 'cb-preflight-'));
    const taken: ClusterSnapshot[] = [];
    const s = { config: { ...config, home }, snapshot: async () => (taken.push(rounds[taken.length]), rounds[taken.length - 1]) } as unknown as Services;
    try {
      return { plan: await preflightFailover(s, undefined, false), rounds: taken.length };
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  };

  it('asks once more when the only candidate missed the round\'s deadline, and plans on that answer', async () => {
    const r = await decide([snap([deadPrimary, late]), snap([deadPrimary, answering])]);
    expect(r.rounds).toBe(2);
    expect(r.plan).toMatchObject({ target: 'standby', oldPrimary: 'primary' });
  });

  it('refuses after the second round when the candidate misses that one too (a hung node)', async () => {
    const r = await decide([snap([deadPrimary, late]), snap([deadPrimary, late])]);
    expect(r).toMatchObject({ rounds: 2, plan: expect.stringMatching(/^no failover-eligible replica is available: .*standby is down \(no answer \(timed out/) });
  });

  it('refuses at once when the candidate is stopped, and does not ask again when the plan stands', async () => {
    const stopped = node('standby', { up: false, role: 'down', running: false, error: 'stopped' });
    expect(await decide([snap([deadPrimary, stopped])])).toMatchObject({ rounds: 1, plan: expect.stringMatching(/standby is down \(stopped\)/) });
    expect(await decide([snap([deadPrimary, answering])])).toMatchObject({ rounds: 1, plan: { target: 'standby' } });
  });
});
