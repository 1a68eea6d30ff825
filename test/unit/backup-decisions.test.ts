// The backup module's decisions, apart from any process: WAL continuity, retention plans,
// restore targets and the choice of backup source.
import { describe, expect, it } from 'vitest';
import type { BackupEntry } from '../../src/backup/catalog.js';
import { chooseBackupSource } from '../../src/backup/full.js';
import { chooseRestoreBackup, parseTargetTime } from '../../src/backup/restore-check.js';
import { planPrune } from '../../src/backup/retention.js';
import { cronIntervalMs } from '../../src/backup/service.js';
import { checkContinuity, segmentName, segmentOfLsn, segmentsOf } from '../../src/backup/wal.js';
import type { ClusterSnapshot, NodeStatus } from '../../src/cluster/inspect.js';
import { loadConfig } from '../../src/config.js';

const day = 86_400_000;
const now = new Date('2026-11-25T12:00:00Z');
const ago = (days: number) => new Date(now.getTime() - days * day).toISOString();
const entry = (id: string, kind: 'full' | 'incremental', days: number, firstWal: string, lastWal = firstWal): BackupEntry => ({
  id, kind, path: `/b/${id}`, node: 'standby', timeline: 1, startLsn: null, stopLsn: null, firstWal, lastWal,
  startedAt: ago(days), finishedAt: ago(days - 0.001), sizeBytes: 100, durationMs: 1, throughputBps: 1, files: [],
  verified: true, verifiedAt: null, verifyError: null,
});
const seg = (n: number, tli = 1) => segmentName(tli, n);

describe('WAL segment names and continuity', () => {
  it('maps LSNs to segment names and back across the 4 GB boundary', () => {
    expect(segmentOfLsn('0/3000028', 1).name).toBe('000000010000000000000003');
    expect(segmentOfLsn('1/FF000000', 2).name).toBe('0000000200000001000000FF');
    expect(segmentName(1, 0x1ff + 1)).toBe('000000010000000200000000');
  });

  it('names the first missing segment, and accepts a timeline switch mid-way', () => {
    const names = [seg(3), seg(4), seg(6), seg(7, 2), '00000002.history', `${seg(3)}.00000028.backup`];
    const c = checkContinuity(segmentsOf(names), 3, 7);
    expect(c).toMatchObject({ ok: false, firstMissing: seg(5), missingCount: 1 });
    expect(checkContinuity(segmentsOf([seg(3), seg(4), seg(5, 2)]), 3, 5)).toMatchObject({ ok: true });
  });
});

describe('retention plan', () => {
  const archive = [2, 3, 4, 5, 6, 7, 8].map((n) => ({ name: seg(n), sizeBytes: 16 })).concat([{ name: '00000002.history', sizeBytes: 1 }, { name: `${seg(2)}.00000028.backup`, sizeBytes: 1 }]);

  it('keeps the newest full (even when old) and the WAL from its first segment, deletes the rest', () => {
    const entries = [entry('f1', 'full', 20, seg(2)), entry('i1', 'incremental', 19, seg(2), seg(3)), entry('f2', 'full', 10, seg(5)), entry('i2', 'incremental', 2, seg(5), seg(8))];
    const plan = planPrune(entries, archive, 7, now);
    expect(plan.keep.map((e) => e.id)).toEqual(['f2', 'i2']);
    expect(plan.remove.map((e) => e.id)).toEqual(['f1', 'i1']);
    expect(plan.keepWalFrom).toBe(seg(5));
    expect(plan.wal).toEqual([seg(2), `${seg(2)}.00000028.backup`, seg(3), seg(4)]);
  });

  it('keeps every full inside the window and the incrementals after the oldest of them', () => {
    const entries = [entry('f1', 'full', 6, seg(2)), entry('i1', 'incremental', 5.5, seg(2), seg(3)), entry('f2', 'full', 1, seg(5))];
    const plan = planPrune(entries, archive, 7, now);
    expect(plan.remove).toEqual([]);
    expect(plan.wal).toEqual([]);
  });

  it('deletes no WAL when there is no full backup', () => {
    expect(planPrune([entry('i1', 'incremental', 30, seg(2))], archive, 7, now).wal).toEqual([]);
  });
});

describe('restore targets', () => {
  const entries = [entry('f1', 'full', 3, seg(2)), entry('i1', 'incremental', 2, seg(2), seg(4)), entry('f2', 'full', 1, seg(5))];

  it('parses ISO times, and refuses malformed or future ones in one line', () => {
    expect(parseTargetTime('2026-11-25 10:30', now).toISOString()).toBe('2026-11-25T10:30:00.000Z');
    expect(parseTargetTime('2026-11-25T11:30:00+01:00', now).toISOString()).toBe('2026-11-25T10:30:00.000Z');
    expect(() => parseTargetTime('tomorrow', now)).toThrowError(/is not a time like/);
    expect(() => parseTargetTime('2026-02-30T10:00:00Z', now)).toThrowError(/is not a time like/);
    expect(() => parseTargetTime('2026-13-01T10:00:00Z', now)).toThrowError(/is not a time like/);
    expect(() => parseTargetTime('2026-11-26T00:00:00Z', now)).toThrowError(/is in the future/);
  });

  it('picks the newest full before the time, or the full before an incremental', () => {
    expect(chooseRestoreBackup(entries, undefined, null).id).toBe('f2');
    expect(chooseRestoreBackup(entries, undefined, new Date(now.getTime() - 1.5 * day)).id).toBe('f1');
    expect(chooseRestoreBackup(entries, 'i1', null).id).toBe('f1');
    expect(() => chooseRestoreBackup(entries, 'nope', null)).toThrowError(/unknown backup id "nope"/);
    expect(() => chooseRestoreBackup(entries, undefined, new Date(now.getTime() - 4 * day))).toThrowError(/before the oldest restorable point/);
    expect(() => chooseRestoreBackup(entries, 'f2', new Date(now.getTime() - 2 * day))).toThrowError(/before f2 finished/);
  });
});

describe('backup source', () => {
  const node = (name: string, role: NodeStatus['role'], extra: Partial<NodeStatus> = {}) =>
    ({ name, role, up: role !== 'down', streaming: role === 'replica', fenced: false, replayPaused: false, failover: name !== 'readonly', lagBytes: 0, error: role === 'down' ? 'stopped' : null, ...extra }) as NodeStatus;
  const snap = (nodes: NodeStatus[]): ClusterSnapshot => ({ takenAt: '', durationMs: 0, nodes, primary: nodes.find((n) => n.role === 'primary')?.name ?? null, writable: [] });

  it('prefers the least lagged healthy replica, sparing the failover candidate on a tie', () => {
    expect(chooseBackupSource(snap([node('primary', 'primary'), node('standby', 'replica'), node('readonly', 'replica')]), 'replica')).toMatchObject({ node: 'readonly' });
    expect(chooseBackupSource(snap([node('primary', 'primary'), node('standby', 'replica'), node('readonly', 'replica', { lagBytes: 99 })]), 'replica')).toMatchObject({ node: 'standby' });
    expect(chooseBackupSource(snap([node('primary', 'primary'), node('standby', 'replica', { streaming: false })]), 'replica')).toMatchObject({ node: 'primary', reason: /no healthy streaming replica/ });
    expect(chooseBackupSource(snap([node('primary', 'primary'), node('standby', 'replica')]), 'primary')).toMatchObject({ node: 'primary' });
    expect(chooseBackupSource(snap([node('primary', 'down'), node('standby', 'down')]), 'replica')).toEqual({ error: 'no node can serve a backup (primary: stopped, standby: stopped)' });
  });

  it('never picks a replica the bot knows only second-hand (Patroni says it runs, SQL does not reach it)', () => {
    const patroniOnly = node('readonly', 'replica', { error: 'from Patroni only (SQL: connection refused)' });
    expect(chooseBackupSource(snap([node('primary', 'primary'), node('standby', 'replica', { lagBytes: 99 }), patroniOnly]), 'replica')).toMatchObject({ node: 'standby' });
    expect(chooseBackupSource(snap([node('primary', 'primary'), patroniOnly]), 'replica')).toMatchObject({ node: 'primary', reason: /no healthy streaming replica/ });
  });
});

describe('backup configuration', () => {
  const base = { POSTGRES_ADMIN_PASSWORD: 'a'.repeat(12), POSTGRES_REPLICATOR_PASSWORD: 'b'.repeat(12) };

  it('defaults to weekly full, daily incremental and prune, 7 days, gzip 6, from a replica', () => {
    const c = loadConfig(base);
    expect([c.BACKUP_FROM, c.BACKUP_COMPRESSION_LEVEL, c.BACKUP_RETENTION_DAYS]).toEqual(['replica', 6, 7]);
    expect(cronIntervalMs(c.BACKUP_FULL_CRON)).toBe(7 * day);
    expect(cronIntervalMs(c.BACKUP_INCREMENTAL_CRON)).toBe(day);
  });

  it('rejects a bad cron expression and names the key', () => {
    expect(() => loadConfig({ ...base, BACKUP_FULL_CRON: '61 * * * *', BACKUP_FROM: 'standby' })).toThrowError(
      /BACKUP_FROM: .*; BACKUP_FULL_CRON: is not a cron expression/,
    );
  });
});
