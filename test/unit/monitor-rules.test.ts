import { describe, expect, it } from 'vitest';
import type { ClusterSnapshot, NodeStatus } from '../../src/cluster/inspect.js';
import { loadConfig } from '../../src/config.js';
import { alertKey, durationConditions, evaluateRules, level, type RuleInput } from '../../src/monitor/rules.js';

const config = loadConfig({ POSTGRES_ADMIN_PASSWORD: 'a'.repeat(12), POSTGRES_REPLICATOR_PASSWORD: 'b'.repeat(12) });

function node(name: string, over: Partial<NodeStatus> = {}): NodeStatus {
  return {
    name, host: '127.0.0.1', port: 5432, failover: true, role: 'replica', up: true, running: true, error: null, timeline: 1,
    lsn: '0/1', receiveLsn: '0/1', replayLsn: '0/1', lagBytes: 0, lagSeconds: 0, replayPaused: false, streaming: true,
    upstream: 'primary', syncState: 'async', fenced: false, archiver: null, replication: [], version: 150000, startedAt: null, ...over,
  };
}

const healthyPrimary = () => node('primary', { role: 'primary', upstream: null, streaming: false, lagBytes: 0, lagSeconds: null });

function snap(nodes: NodeStatus[]): ClusterSnapshot {
  const writable = nodes.filter((n) => n.role === 'primary').map((n) => n.name);
  return { takenAt: new Date(0).toISOString(), durationMs: 1, nodes, primary: writable.length === 1 ? writable[0] : null, writable };
}

const input = (s: ClusterSnapshot, over: Partial<RuleInput> = {}): RuleInput => ({
  snapshot: s, lastPrimary: 'primary', since: {}, disks: [], backupOverdue: null, now: 1_000_000, thresholds: config, ...over,
});
const keys = (i: RuleInput) => evaluateRules(i).map((f) => `${alertKey(f)}=${f.severity}`);

describe('alert rules', () => {
  it('finds nothing wrong with a healthy cluster', () => {
    expect(keys(input(snap([healthyPrimary(), node('standby'), node('readonly')])))).toEqual([]);
  });

  it('reports a dead primary once, as critical "primary down" with the failover button', () => {
    const s = snap([node('primary', { role: 'down', up: false, running: false, error: 'stopped' }), node('standby', { streaming: false }), node('readonly', { streaming: false })]);
    const found = evaluateRules(input(s, { since: { 'not_streaming:standby': 0 } }));
    expect(found.map((f) => `${alertKey(f)}=${f.severity}`)).toEqual(['primary_down:primary=crit']);
    expect(found[0].failover).toBe(true);
    expect(found[0].value).toBe('process not running');
  });

  it('says "no writable primary" when every node is up but read-only', () => {
    const s = snap([node('primary', { fenced: true }), node('standby'), node('readonly')]);
    expect(keys(input(s))).toEqual(['no_primary:cluster=crit']);
  });

  it('warns about a down replica, and points a fenced one at rejoin', () => {
    const s = snap([healthyPrimary(), node('standby', { role: 'down', up: false, fenced: true, running: false }), node('readonly', { role: 'down', up: false, running: true, error: 'timeout' })]);
    const found = evaluateRules(input(s));
    expect(found.map((f) => `${alertKey(f)}=${f.severity}`)).toEqual(['node_down:standby=warn', 'node_down:readonly=warn']);
    expect(found[0].next).toBe('/cluster rejoin standby');
    expect(found[1].value).toBe('not answering: timeout');
  });

  it('grades lag in bytes and seconds against warn and crit, and 0 switches a level off', () => {
    const s = snap([healthyPrimary(), node('standby', { lagBytes: 20 * 1024 * 1024, lagSeconds: 400 }), node('readonly', { lagBytes: 300 * 1024 * 1024, lagSeconds: 61 })]);
    expect(keys(input(s))).toEqual(['lag_bytes:standby=warn', 'lag_seconds:standby=crit', 'lag_bytes:readonly=crit', 'lag_seconds:readonly=warn']);
    expect(level(5, 0, 10)).toBeNull();
    expect(level(10, 0, 10)).toBe('crit');
    expect(level(5, 5, 0)).toBe('warn');
  });

  it('reports a replica that stopped streaming only after the warn delay, then as critical', () => {
    const s = snap([healthyPrimary(), node('standby', { streaming: false }), node('readonly')]);
    expect(durationConditions(s)).toEqual(['not_streaming:standby']);
    const now = 1_000_000;
    expect(keys(input(s, { now, since: { 'not_streaming:standby': now - 5_000 } }))).toEqual([]);
    expect(keys(input(s, { now, since: { 'not_streaming:standby': now - 20_000 } }))).toEqual(['not_streaming:standby=warn']);
    expect(keys(input(s, { now, since: { 'not_streaming:standby': now - 400_000 } }))).toEqual(['not_streaming:standby=crit']);
  });

  it('turns a failing archiver critical after ARCHIVER_FAILING_CRIT_MINUTES', () => {
    const archiver = { archivedCount: 3, lastArchivedWal: 'a', lastArchivedTime: null, failedCount: 4, lastFailedWal: '000000010000000000000005', lastFailedTime: '2026-01-01T10:00:00Z', failing: true };
    const s = snap([node('primary', { role: 'primary', upstream: null, archiver }), node('standby')]);
    const now = 10_000_000;
    expect(keys(input(s, { now, since: { 'archiver_failing:primary': now - 60_000 } }))).toEqual(['archiver_failing:primary=warn']);
    expect(keys(input(s, { now, since: { 'archiver_failing:primary': now - 11 * 60_000 } }))).toEqual(['archiver_failing:primary=crit']);
  });

  it('grades disk usage per filesystem and reports an overdue backup', () => {
    const s = snap([healthyPrimary(), node('standby')]);
    const disks = [
      { labels: ['data of primary', 'WAL archive'], paths: ['/d', '/a'], nodes: ['primary'], usedPercent: 85, availBytes: 1e9, totalBytes: 1e10 },
      { labels: ['backups'], paths: ['/b'], nodes: [], usedPercent: 95, availBytes: 1e8, totalBytes: 1e10 },
    ];
    const found = evaluateRules(input(s, { disks, backupOverdue: 'the daily incremental backup is 3 h overdue' }));
    expect(found.map((f) => `${alertKey(f)}=${f.severity}`)).toEqual(['disk_usage:data of primary=warn', 'disk_usage:backups=crit', 'backup_overdue:cluster=warn']);
    expect(found[0].title).toBe('Disk 85% full: data of primary, WAL archive');
  });

  it('names both nodes of a split brain', () => {
    const s = snap([healthyPrimary(), node('standby', { role: 'primary' }), node('readonly')]);
    const [f] = evaluateRules(input(s));
    expect(f.title).toBe('SPLIT BRAIN: primary and standby both accept writes');
    expect(f.severity).toBe('crit');
  });

  it('refuses a bad health-report schedule or threshold in the configuration, naming the key', () => {
    expect(() => loadConfig({ POSTGRES_ADMIN_PASSWORD: 'a'.repeat(12), POSTGRES_REPLICATOR_PASSWORD: 'b'.repeat(12), HEALTH_REPORT_CRON: 'every hour', DISK_USAGE_WARN: '120' })).toThrowError(
      /(?=.*HEALTH_REPORT_CRON: is not a cron expression such as "0 \* \* \* \*" \(or off\))(?=.*DISK_USAGE_WARN: must be a percentage \(0-100\))/,
    );
    expect(loadConfig({ POSTGRES_ADMIN_PASSWORD: 'a'.repeat(12), POSTGRES_REPLICATOR_PASSWORD: 'b'.repeat(12), HEALTH_REPORT_CRON: 'off' }).HEALTH_REPORT_CRON).toBe('off');
  });
});
