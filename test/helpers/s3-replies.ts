// What the S3 repository tests check in the bot's cards, the same on every backend.
import { expect } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';

/** One repository's copy of a backup run, as the backup card's data carries it. */
export interface RepoCopy {
  repo: number;
  label?: string;
  id: string | null;
  repoBytes?: number | null;
  verified: boolean | null;
  error: string | null;
}

/** A backup card that took the backup into repo1 and repo2, each verified; returns the copies. */
export function expectInBothRepos(r: Reply): RepoCopy[] {
  expect(r.failed, `${r.title}: ${r.text}`).toBeFalsy();
  const copies = (r.data as { copies: RepoCopy[] }).copies;
  expect(copies.map((x) => [x.repo, x.verified, x.error])).toEqual([
    [1, true, null],
    [2, true, null],
  ]);
  expect(r.title).toMatch(/taken into 2 repositories and verified/);
  return copies;
}

/** A restore check of the bucket's copy `id` (backup and WAL from repo2) that found the 5 usuarios. */
export function expectRestoredFromRepo2(rc: Reply, id: string | null): void {
  expect(rc.failed, `${rc.title}: ${rc.text}`).toBeFalsy();
  expect(rc.data).toMatchObject({ backup: id, repo: 2, usuarios: 5 });
  expect(rc.text).toMatch(/^Restored from repo2/);
}

/** A backup card that failed in repo2 alone, in one line, and kept a verified copy in repo1. */
export function expectFailedInRepo2Only(r: Reply): void {
  expect(r.failed).toBe(true);
  expect(r.severity).toBe('crit');
  expect(r.title, r.text).toMatch(/^Backup FAILED in repo2; kept \d{8}-\d{6}F in repo1 \(verified\)$/);
  expect(r.text?.split('\n')).toHaveLength(1);
  expect((r.data as { copies: RepoCopy[] }).copies.map((x) => [x.repo, x.verified, x.id === null])).toEqual([
    [1, true, false],
    [2, null, true],
  ]);
}
