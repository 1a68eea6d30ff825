// Synchronous replication decisions on constructed snapshots and states: which replica a failover
// picks, when the card may say "0 bytes at risk — synchronous", and which alert fires.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { ClusterSnapshot, NodeStatus } from '../../src/cluster/inspect.js';
import { planFailover, type FailoverPlan } from '../../src/cluster/failover/preflight.js';
import { standbyNames, syncMembers, type SyncState } from '../../src/cluster/sync/state.js';
import { syncTarget, syncVerdict } from '../../src/cluster/sync/verdict.js';
import { syncFindings } from '../../src/monitor/sync-rules.js';
import { iniText, userlistText } from '../../src/cluster/write-endpoint/pgbouncer.js';

const config = loadConfig({
  POSTGRES_ADMIN_PASSWORD: 'a'.repeat(12),
  POSTGRES_REPLICATOR_PASSWORD: 'b'.repeat(12),
  CLUSTER_NODES: 'primary:5432,standby:5433,second:5435,readonly:5434:nofailover',
});

function node(name: string, over: Partial<NodeStatus>): NodeStatus {
  return {
    name, host: '127.0.0.1', port: 1, failover: name !== 'readonly', role: 'replica', up: true, running: true, error: null, timeline: 1,
    lsn: null, receiveLsn: null, replayLsn: null, lagBytes: 0, lagSeconds: 0, replayPaused: false, streaming: false, upstream: null,
    syncState: null, fenced: false, archiver: null, replication: [], version: 150000, startedAt: null, ...over,
  };
}
const snap = (nodes: NodeStatus[]): ClusterSnapshot => {
  const writable = nodes.filter((n) => n.role === 'primary').map((n) => n.name);
  return { takenAt: '', durationMs: 0, nodes, primary: writable.length === 1 ? writable[0] : null, writable };
};
const dead = node('primary', { role: 'down', up: false, running: false, error: 'stopped' });
const held: SyncState = {
  mode: 'on', setBy: 'alice', setAt: null, primary: 'primary', members: ['standby', 'second'], active: true, degraded: false,
  noSyncSince: null, syncNodes: ['standby'], updatedAt: '',
};
const plan = (s: ClusterSnapshot, target?: string) => planFailover(s, config, target, false) as FailoverPlan;

describe('synchronous replication decisions', () => {
  it('names every failover-eligible replica except the primary, quoted, ANY 1', () => {
    expect(syncMembers(config, 'primary')).toEqual(['standby', 'second']);
    expect(standbyNames(['standby', 'second'])).toBe('ANY 1 ("standby", "second")');
    expect(standbyNames([])).toBe('');
  });

  it('picks the most advanced synchronous member even when the no-failover node is further ahead, and claims zero loss', () => {
    const s = snap([dead, node('standby', { receiveLsn: '0/5000100' }), node('second', { receiveLsn: '0/5000200' }), node('readonly', { receiveLsn: '0/5000900' })]);
    expect(syncTarget(held, s)).toBe('second');
    const v = syncVerdict(held, s, plan(s, 'second'));
    expect(v.zeroLoss).toBe(true);
    expect(v.line).toMatch(/every commit it acknowledged waited until one of standby, second had flushed it/);
  });

  it('makes no zero-loss claim when another member cannot be read, when degraded, for a non-member, or when sync was applied elsewhere', () => {
    const oneDown = snap([dead, node('standby', { receiveLsn: '0/5000100', upstream: 'primary' }), node('second', { role: 'down', up: false, error: 'stopped' })]);
    expect(syncVerdict(held, oneDown, plan(oneDown, 'standby'))).toMatchObject({ zeroLoss: false, line: expect.stringMatching(/^second, also a synchronous candidate \(ANY 1\), cannot be read/) });
    const both = snap([dead, node('standby', { receiveLsn: '0/5000100' }), node('second', { receiveLsn: '0/5000100' })]);
    expect(syncVerdict({ ...held, degraded: true, active: false }, both, plan(both, 'standby'))).toMatchObject({ zeroLoss: false, line: expect.stringMatching(/DEGRADED to asynchronous/) });
    expect(syncVerdict({ ...held, members: ['second'] }, both, plan(both, 'standby'))).toMatchObject({ zeroLoss: false, line: expect.stringMatching(/standby was not a synchronous replica/) });
    expect(syncVerdict({ ...held, primary: 'standby' }, both, plan(both, 'second')).zeroLoss).toBe(false);
    expect(syncVerdict({ ...held, mode: 'off', active: false }, both, plan(both))).toEqual({ zeroLoss: false, line: '' });
    expect(syncTarget({ ...held, degraded: true }, both)).toBeUndefined();
  });

  it('alerts: on+degraded only after SYNC_DEGRADE_SECONDS without a synchronous replica; strict says writes are blocked; off is silent', () => {
    const now = 100_000;
    expect(syncFindings({ ...held, degraded: true, noSyncSince: now - 2000 }, 3, now)).toEqual([]);
    expect(syncFindings({ ...held, degraded: true, noSyncSince: now - 3000 }, 3, now)[0]).toMatchObject({ rule: 'sync_degraded', severity: 'crit' });
    expect(syncFindings({ ...held, mode: 'strict', noSyncSince: now - 5000 }, 3, now)[0]).toMatchObject({ rule: 'sync_blocked', title: expect.stringMatching(/^Writes BLOCKED/) });
    expect(syncFindings({ ...held, mode: 'strict', noSyncSince: null }, 3, now)).toEqual([]);
    expect(syncFindings({ ...held, mode: 'off', degraded: true, noSyncSince: 0 }, 3, now)).toEqual([]);
  });

  it('the PgBouncer ini points every database at the primary with scram-sha-256 and transaction pooling; the userlist quotes', () => {
    const ini = iniText(config, config.nodes[1], 'postgres');
    expect(ini).toMatch(/^proyecto_db = host=127\.0\.0\.1 port=5433 dbname=proyecto_db$/m);
    expect(ini).toMatch(/^auth_type = scram-sha-256$/m);
    expect(ini).toMatch(/^pool_mode = transaction$/m);
    expect(ini).toMatch(/^listen_addr = 127\.0\.0\.1$/m);
    expect(ini).toMatch(/^listen_port = 6432$/m);
    expect(ini).toMatch(/^user = postgres$/m);
    expect(ini).not.toContain(config.POSTGRES_ADMIN_PASSWORD);
    expect(userlistText({ ...config, POSTGRES_ADMIN_PASSWORD: 'pa"ss' })).toBe('"admin" "pa""ss"\n');
    expect(userlistText(config, '"admin" "old"\n"app" "secret"\n')).toBe(`"admin" "${config.POSTGRES_ADMIN_PASSWORD}"\n"app" "secret"\n`);
  });
});
