// postgres/archive-wal.sh, the archive_command: temp name + fsync + rename, and never an overwrite.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const script = new URL('../../postgres/archive-wal.sh', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'archive-wal-'));
const archive = join(dir, 'archive');
const name = '000000010000000000000007';
const archiveWal = (src: string) => spawnSync('sh', [script, src, name, archive], { encoding: 'utf8' });

describe('archive-wal.sh', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  spawnSync('mkdir', [archive]);
  const segment = join(dir, 'segment');
  writeFileSync(segment, 'the real segment');

  it('copies a new segment under its final name and leaves no temporary file', () => {
    const r = archiveWal(segment);
    expect(r.status).toBe(0);
    expect(readFileSync(join(archive, name), 'utf8')).toBe('the real segment');
    expect(readdirSync(archive)).toEqual([name]);
  });

  it('accepts a retry of the identical segment', () => {
    expect(archiveWal(segment).status).toBe(0);
  });

  it('refuses to overwrite an archived segment with different content, and keeps the original', () => {
    const other = join(dir, 'other');
    writeFileSync(other, 'something else entirely');
    const r = archiveWal(other);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${name} already exists with different content; refusing to overwrite`));
    expect(readFileSync(join(archive, name), 'utf8')).toBe('the real segment');
    expect(readdirSync(archive)).toEqual([name]);
  });
});
