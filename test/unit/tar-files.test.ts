// src/backup/files.ts: WAL bundles written and backups extracted by the system tar, as the
// PostgreSQL OS user, with modes kept; a damaged archive is one clear line naming the file.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTarGz, extractTar, fileSize, pgUser } from '../../src/backup/files.js';

const dir = mkdtempSync(join(tmpdir(), 'tar-files-'));
chmodSync(dir, 0o755); // the postgres OS user (when we are root) must reach the folders
const src = join(dir, 'src');
mkdirSync(join(src, 'sub'), { recursive: true });
writeFileSync(join(src, 'a'), 'first file');
writeFileSync(join(src, 'sub', 'b'), Buffer.alloc(256 * 1024, 7), { mode: 0o600 });
chmodSync(join(src, 'sub', 'b'), 0o600);

describe('system tar for backups', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const archive = join(dir, 'bundle.tar.gz');

  it('round-trips files and modes, owned by the PostgreSQL OS user', async () => {
    await createTarGz(archive, src, ['a', 'sub'], 9);
    expect(readFileSync(archive).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const out = join(dir, 'out');
    await extractTar(archive, out);
    expect(readFileSync(join(out, 'a'), 'utf8')).toBe('first file');
    expect(readFileSync(join(out, 'sub', 'b'))).toEqual(Buffer.alloc(256 * 1024, 7));
    const st = statSync(join(out, 'sub', 'b'));
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(pgUser()?.uid ?? process.getuid!());
  });

  it('a truncated archive is one line naming it, not a hang or a partial success', async () => {
    const cut = join(dir, 'cut.tar.gz');
    writeFileSync(cut, readFileSync(archive));
    truncateSync(cut, Math.floor(fileSize(archive) / 2));
    const err = await extractTar(cut, join(dir, 'cut-out')).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/^[^/]+\/cut\.tar\.gz cannot be extracted: \S.*$/);
  });

  it('a missing source file fails the bundle, naming the archive', async () => {
    const err = await createTarGz(join(dir, 'x.tar.gz'), src, ['nope'], 1).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/x\.tar\.gz cannot be written: .*nope/);
  });
});
