// The backup-overdue verdict per repository: a repository that cannot be read, one that missed the
// newest backup run, and a scheduled backup older than two intervals in one repository.
import { describe, expect, it } from 'vitest';
import { baseEnv, s3Env } from '../helpers/s3-settings.js';
import { loadConfig } from '../../src/config.js';
import { describeRepos } from '../../src/backup/pgbackrest/repos.js';
import { repoOverdue, type OverdueInput } from '../../src/backup/repo-overdue.js';
import type { BackupSet, StanzaInfo } from '../../src/backup/pgbackrest/info.js';

const base = baseEnv;
const s3 = s3Env;
const now = Date.parse('2026-12-03T12:00:00Z');
const hour = 3_600_000;
const at = (h: number) => new Date(now - h * hour).toISOString();
const set = (id: string, repo: number, hoursAgo: number, run: string | null, kind: BackupSet['kind'] = 'full'): BackupSet => ({
  id, kind, prior: null, node: 'standby', run, startedAt: at(hoursAgo + 0.01), finishedAt: at(hoursAgo), durationMs: 1000, sizeBytes: 1, deltaBytes: 1, repoBytes: 1,
  walStart: '', walStop: '', timeline: 1, lsnStart: '', lsnStop: '', repo, verified: true, verifiedAt: null, verifyError: null, error: false, earlierDatabase: false,
});
const info = (sets: BackupSet[], repo2 = { code: 0, message: 'ok' }): StanzaInfo => ({
  sets, archiveMin: null, archiveMax: null, status: { code: 0, message: 'ok' }, running: null, archiveByRepo: {},
  repos: [{ key: 1, code: 0, message: 'ok' }, { key: 2, ...repo2 }],
});
const two = describeRepos(loadConfig({ ...base, ...s3 }), { repo1: '/b/pgbackrest' });
const input = (i: Partial<OverdueInput>): OverdueInput => ({ repos: two, info: info([]), now, since: now - hour, schedules: [['full', '0 2 * * 0', 168 * hour]], running: false, ...i });

describe('backup overdue per repository', () => {
  it('is quiet when the newest run reached both repositories within the schedule', () => {
    expect(repoOverdue(input({ info: info([set('A', 1, 2, 'r1'), set('B', 2, 1.9, 'r1')]) }))).toBeNull();
  });

  it('names repo2 when the newest run reached repo1 only, unless a backup is still running', () => {
    const i = info([set('A', 1, 30, 'r1'), set('B', 2, 29.9, 'r1'), set('C', 1, 1, 'r2')]);
    expect(repoOverdue(input({ info: i }))).toBe(
      `full backup overdue in repo2 (S3 bucket "acme-pg-backups" at minio.example.net:9000): the newest backup C reached repo1 only; its newest is B (${at(29.9)}) — check that https://minio.example.net:9000 answers from this host, that the bucket exists and that BACKUP_S3_ACCESS_KEY/BACKUP_S3_SECRET_KEY may write to it (docs/backups-s3.md), then run /cluster backup full`,
    );
    expect(repoOverdue(input({ info: i, running: true }))).toBeNull();
  });

  it('names repo2 when it cannot be read, with pgBackRest\'s error and what to check', () => {
    const i = info([set('A', 1, 1, 'r1')], { code: 99, message: "[HostConnectError] unable to connect to 'minio.example.net:9000': [111] Connection refused" });
    expect(repoOverdue(input({ info: i }))).toMatch(/^repo2 \(S3 bucket "acme-pg-backups" at minio\.example\.net:9000\) cannot be read: \[HostConnectError\] .+ — check that https:\/\/minio\.example\.net:9000 answers/);
  });

  it('measures the schedule in each repository', () => {
    const i = info([set('A', 1, 400, 'r1'), set('B', 2, 399.9, 'r1')]);
    expect(repoOverdue(input({ info: i }))).toMatch(/^full backup overdue in repo1 \(folder \/b\/pgbackrest\): the last one \(A\) finished 400\.0 h ago/);
  });

  it('keeps the one-repository sentences as they were', () => {
    const one = describeRepos(loadConfig(base), { repo1: '/b/pgbackrest' });
    const i = { ...info([set('A', 1, 400, null)]), repos: [{ key: 1, code: 0, message: 'ok' }] };
    expect(repoOverdue(input({ repos: one, info: i }))).toMatch(/^full backup overdue: the last one \(A\) finished 400\.0 h ago; "0 2 \* \* 0" expects one every 168\.0 h$/);
  });
});
