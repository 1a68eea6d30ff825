// The backup module's decisions, apart from any process: pgBackRest's info and verify output,
// retention by count of fulls, restore targets, the choice of backup source, the configuration.
import { describe, expect, it } from 'vitest';
import { chooseBackupSource } from '../../src/backup/source.js';
import { chooseRestoreSet, parseTargetTime } from '../../src/backup/restore-check.js';
import { planExpire } from '../../src/backup/retention.js';
import { cronIntervalMs } from '../../src/backup/repo-overdue.js';
import { parseInfo, parseVerify, type BackupSet } from '../../src/backup/pgbackrest/info.js';
import { repoOptions } from '../../src/backup/pgbackrest/repos.js';
import { archiveCommands, clusterConfText, commandLineOptions, compressLevel, nodeConfText } from '../../src/backup/pgbackrest/conf.js';
import type { ClusterSnapshot, NodeStatus } from '../../src/cluster/inspect.js';
import { loadConfig } from '../../src/config.js';

const day = 86_400_000;
const now = new Date('2026-11-25T12:00:00Z');
const ago = (days: number) => new Date(now.getTime() - days * day).toISOString();
const set = (id: string, kind: BackupSet['kind'], days: number, prior: string | null = null): BackupSet => ({
  id, kind, prior, node: 'standby', run: null, startedAt: ago(days), finishedAt: ago(days - 0.001), durationMs: 1000, sizeBytes: 1000, deltaBytes: 100, repoBytes: 10,
  walStart: '000000010000000000000002', walStop: '000000010000000000000003', timeline: 1, lsnStart: '0/2000028', lsnStop: '0/3000050', repo: 1,
  verified: null, verifiedAt: null, verifyError: null, error: false, earlierDatabase: false,
});

// Printed by pgBackRest 2.45 here (info --output=json; verify --output=text --verbose with a flipped byte).
const INFO = '[{"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1","max":"000000010000000000000003","min":"000000010000000000000001"}],"backup":[{"annotation":{"node":"standby","verified":"failed: checksum","verified-at":"2026-12-03T09:30:00.000Z"},"archive":{"start":"000000010000000000000002","stop":"000000010000000000000003"},"backrest":{"format":5,"version":"2.45"},"database":{"id":1,"repo-key":1},"error":false,"info":{"delta":22992577,"repository":{"delta":2811768,"size":2811768},"size":22992577},"label":"20261203-092734F","lsn":{"start":"0/2000028","stop":"0/3000050"},"prior":null,"reference":null,"timestamp":{"start":1796290054,"stop":1796290060},"type":"full"}],"cipher":"none","db":[{"id":1,"repo-key":1,"system-id":7715007005178154541,"version":"15"}],"name":"demo","repo":[{"cipher":"none","key":1,"status":{"code":0,"message":"ok"}}],"status":{"code":0,"lock":{"backup":{"held":true,"size-cplt":50,"size":200}},"message":"ok"}}]';
const VERIFY_OUT = `stanza: demo
status: error
  archiveId: 15-1, total WAL checked: 3, total valid WAL: 3
    missing: 0, checksum invalid: 0, size invalid: 0, other: 0
  backup: 20261203-092734F, status: invalid, total files checked: 964, total valid files: 963
    missing: 0, checksum invalid: 1, size invalid: 0, other: 0
`;
const VERIFY_ERR = "INFO: verify command begin 2.45: --stanza=demo\nINFO: invalid checksum '20261203-092734F/pg_data/base/5/1255.zst'\nINFO: verify command end: completed successfully (449ms)\n";

describe('pgBackRest output', () => {
  it('reads a backup set, its annotations, the archive range and a running backup from info JSON', () => {
    const info = parseInfo(INFO, 'demo');
    expect(info.sets).toHaveLength(1);
    expect(info.sets[0]).toMatchObject({
      id: '20261203-092734F', kind: 'full', node: 'standby', timeline: 1, sizeBytes: 22992577, repoBytes: 2811768, durationMs: 6000,
      walStart: '000000010000000000000002', verified: false, verifyError: 'checksum', verifiedAt: '2026-12-03T09:30:00.000Z',
    });
    expect([info.archiveMin, info.archiveMax, info.running]).toEqual(['000000010000000000000001', '000000010000000000000003', { done: 50, total: 200 }]);
    expect(parseInfo(INFO, 'other')).toMatchObject({ sets: [], status: { message: 'missing stanza' } });
  });

  it('reads verify: an invalid backup and the file pgBackRest named', () => {
    const v = parseVerify(VERIFY_OUT, VERIFY_ERR);
    expect(v.ok).toBe(false);
    expect(v.backups).toEqual({ '20261203-092734F': 'invalid' });
    expect(v.problems[0]).toBe("invalid checksum '20261203-092734F/pg_data/base/5/1255.zst'");
    expect(parseVerify(VERIFY_OUT.replace('status: error', 'status: ok').replace(/invalid: 1/, 'invalid: 0').replace('status: invalid', 'status: valid'), '').ok).toBe(true);
  });
});

describe('retention by count of full backups', () => {
  const sets = [set('F1', 'full', 20), set('F1_D', 'diff', 19, 'F1'), set('F2', 'full', 10), set('F2_I1', 'incr', 9, 'F2'), set('F2_I2', 'incr', 8, 'F2_I1'), set('F3', 'full', 2)];
  const legacy = [{ id: 'full-20260101T000000Z', kind: 'full', path: '/b/x', node: 'standby', timeline: 1, startedAt: ago(90), finishedAt: ago(90), sizeBytes: 5, durationMs: 1, verified: true }];

  it('keeps the newest N fulls with every backup that depends on them, expires the rest', () => {
    const plan = planExpire(sets, [], 2);
    expect(plan.keep.map((e) => e.id)).toEqual(['F2', 'F2_I1', 'F2_I2', 'F3']);
    expect(plan.remove.map((e) => e.id)).toEqual(['F1', 'F1_D']);
    expect(planExpire(sets, [], 3).remove).toEqual([]);
  });

  it('deletes old-engine backups only once pgBackRest holds N fulls of its own', () => {
    expect(planExpire(sets.slice(0, 2), legacy, 2).legacy).toEqual([]);
    expect(planExpire(sets, legacy, 2).legacy.map((l) => l.id)).toEqual(['full-20260101T000000Z']);
  });
});

describe('restore targets', () => {
  const sets = [set('F1', 'full', 3), set('F1_I', 'incr', 2, 'F1'), set('F2', 'full', 1)];

  it('parses ISO times, and refuses malformed or future ones in one line', () => {
    expect(parseTargetTime('2026-11-25 10:30', now).toISOString()).toBe('2026-11-25T10:30:00.000Z');
    expect(parseTargetTime('2026-11-25T11:30:00+01:00', now).toISOString()).toBe('2026-11-25T10:30:00.000Z');
    expect(() => parseTargetTime('tomorrow', now)).toThrowError(/is not a time like/);
    expect(() => parseTargetTime('2026-02-30T10:00:00Z', now)).toThrowError(/is not a time like/);
    expect(() => parseTargetTime('2026-13-01T10:00:00Z', now)).toThrowError(/is not a time like/);
    expect(() => parseTargetTime('2026-11-26T00:00:00Z', now)).toThrowError(/is in the future/);
  });

  it('picks the newest backup before the time (an incr restores with its chain), or the one named', () => {
    expect(chooseRestoreSet(sets, undefined, null).id).toBe('F2');
    expect(chooseRestoreSet(sets, undefined, new Date(now.getTime() - 1.5 * day)).id).toBe('F1_I');
    expect(chooseRestoreSet(sets, 'F1_I', null).id).toBe('F1_I');
    expect(() => chooseRestoreSet(sets, 'nope', null)).toThrowError(/unknown backup id "nope"/);
    expect(() => chooseRestoreSet(sets, undefined, new Date(now.getTime() - 4 * day))).toThrowError(/before the oldest restorable point/);
    expect(() => chooseRestoreSet(sets, 'F2', new Date(now.getTime() - 2 * day))).toThrowError(/before F2 finished/);
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

  it('defaults to weekly full, daily incr and retention, 2 fulls kept, zstd, from a replica', () => {
    const c = loadConfig(base);
    expect([c.BACKUP_FROM, c.BACKUP_COMPRESS_TYPE, c.BACKUP_RETENTION_FULL, c.BACKUP_STANZA, c.BACKUP_AFTER_FAILOVER]).toEqual(['replica', 'zst', 2, 'clusterbot', 'offer']);
    expect(cronIntervalMs(c.BACKUP_FULL_CRON)).toBe(7 * day);
    expect(cronIntervalMs(c.BACKUP_INCREMENTAL_CRON)).toBe(day);
  });

  it('compresses with zst at level 1 by default, pgBackRest\'s own level for lz4 and gz, or the level configured', () => {
    expect(compressLevel(loadConfig(base))).toBe(1);
    expect(compressLevel(loadConfig({ ...base, BACKUP_COMPRESS_TYPE: 'gz' }))).toBe(6);
    expect(compressLevel(loadConfig({ ...base, BACKUP_COMPRESS_TYPE: 'lz4' }))).toBe(1);
    expect(compressLevel(loadConfig({ ...base, BACKUP_COMPRESS_LEVEL: '3' }))).toBe(3);
    expect(compressLevel(loadConfig({ ...base, BACKUP_COMPRESS_TYPE: 'zst', BACKUP_COMPRESS_LEVEL: '-7' }))).toBe(-7);
  });

  it('refuses a compression level pgBackRest would refuse for the type, naming the key and the range', () => {
    expect(() => loadConfig({ ...base, BACKUP_COMPRESS_TYPE: 'gz', BACKUP_COMPRESS_LEVEL: '10' })).toThrowError(/^Invalid configuration — BACKUP_COMPRESS_LEVEL: 10 is out of range for BACKUP_COMPRESS_TYPE=gz \(-1 to 9\)$/);
    expect(() => loadConfig({ ...base, BACKUP_COMPRESS_LEVEL: '23' })).toThrowError(/BACKUP_COMPRESS_LEVEL: 23 is out of range for BACKUP_COMPRESS_TYPE=zst \(-7 to 22\)/);
    expect(() => loadConfig({ ...base, BACKUP_COMPRESS_LEVEL: 'fast' })).toThrowError(/BACKUP_COMPRESS_LEVEL: must be a whole number/);
    expect(() => loadConfig({ ...base, BACKUP_COMPRESS_LEVEL: '1.5' })).toThrowError(/BACKUP_COMPRESS_LEVEL: must be a whole number/);
  });

  it('rejects a bad cron expression and names the key', () => {
    expect(() => loadConfig({ ...base, BACKUP_FULL_CRON: '61 * * * *', BACKUP_FROM: 'standby' })).toThrowError(
      /BACKUP_FROM: .*; BACKUP_FULL_CRON: is not a cron expression/,
    );
  });
});

describe('pgBackRest configuration', () => {
  const base = { POSTGRES_ADMIN_PASSWORD: 'a'.repeat(12), POSTGRES_REPLICATOR_PASSWORD: 'b'.repeat(12), CLUSTERBOT_HOME: '/srv/cb', BACKUP_PROCESS_MAX: '3' };

  it('writes repo1 under the backups folder with retention by count, and each node its own spool', () => {
    const c = loadConfig(base);
    expect(repoOptions(c, { repo1: '/x' })).toEqual({ 'repo1-path': '/x', 'repo1-retention-full-type': 'count', 'repo1-retention-full': '2' });
    const bot = clusterConfText(c);
    expect(bot).toContain('repo1-path=/srv/cb/backups/pgbackrest\n');
    expect(bot).toContain('process-max=3\n');
    expect(bot).toContain('compress-type=zst');
    expect(bot).toContain('compress-level=1\n');
    // On a command line pgBackRest refuses an option the command does not take: the level goes to backup only.
    expect(commandLineOptions(c, '/r', 'backup')).toEqual(expect.arrayContaining(['--compress-type=zst', '--compress-level=1']));
    expect(commandLineOptions({ ...c, BACKUP_COMPRESS_LEVEL: 9 }, '/r', 'backup')).toContain('--compress-level=9');
    expect(commandLineOptions(c, '/r', 'info').filter((o) => o.startsWith('--compress'))).toEqual([]);
    expect(bot).not.toMatch(/pg1-path/);
    const node = nodeConfText(c, { name: 'standby', data: '/d', socket: '/s', port: 5433 });
    expect(node).toContain('archive-async=y');
    expect(node).toContain('[global:archive-get]\narchive-async=n\n');
    expect(node).toContain('spool-path=/srv/cb/pgbackrest/spool/standby');
    expect(node).toMatch(/\[clusterbot\]\npg1-path=\/d\npg1-port=5433\npg1-socket-path=\/s\n/);
    expect(archiveCommands('clusterbot', '/c.conf')).toEqual({
      archive: 'pgbackrest --config=/c.conf --stanza=clusterbot archive-push "%p"',
      restore: 'pgbackrest --config=/c.conf --stanza=clusterbot archive-get "%f" "%p"',
    });
    // repo1 alone: a file the repository does not hold never starts pgBackRest (run for real in restore-command.test.ts).
    expect(archiveCommands('clusterbot', '/c.conf', { script: '/g.sh', repo: '/srv/my backups/pgbackrest' }).restore).toBe(
      'sh "/g.sh" "/srv/my backups/pgbackrest" clusterbot "%f" "%p" --config=/c.conf',
    );
  });
});
