// The rotation of pgBackRest's log files in the folders the bot points it at, on a real folder.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rotateLogs } from '../../src/backup/pgbackrest/logs.js';

describe('rotateLogs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cb-logs-'));
  afterEach(() => {
    for (const f of readdirSync(dir)) rmSync(join(dir, f));
  });

  it('moves a log above the limit to <name>.1, replacing the one before, and leaves the rest', () => {
    writeFileSync(join(dir, 'clusterbot-backup.log'), 'a'.repeat(101));
    writeFileSync(join(dir, 'clusterbot-backup.log.1'), 'older');
    writeFileSync(join(dir, 'clusterbot-archive-push-async.log'), 'b'.repeat(100));
    writeFileSync(join(dir, 'notes.txt'), 'c'.repeat(500));
    expect(rotateLogs(dir, 100)).toEqual(['clusterbot-backup.log']);
    expect(readdirSync(dir).sort()).toEqual(['clusterbot-archive-push-async.log', 'clusterbot-backup.log.1', 'notes.txt']);
    expect(readFileSync(join(dir, 'clusterbot-backup.log.1'), 'utf8')).toBe('a'.repeat(101));
  });

  it('has nothing to rotate in a folder that does not exist yet', () => {
    expect(rotateLogs(join(dir, 'missing'), 100)).toEqual([]);
  });
});
