// File work for backups: folders owned by the PostgreSQL OS user, sizes, checksums, tar extraction.
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, createReadStream, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tar from 'tar';
import { postgresOsUser, type OsUser } from '../runtime/process.js';

/** The account PostgreSQL tools run as (null: ourselves). Read once. */
let osUser: OsUser | null | undefined;
export function pgUser(): OsUser | null {
  if (osUser === undefined) osUser = postgresOsUser();
  return osUser;
}

/** A folder PostgreSQL programs (run as the postgres OS user) may write into. */
export function mkdirForPostgres(path: string, mode = 0o750): void {
  const first = mkdirSync(path, { recursive: true, mode });
  const u = pgUser();
  // Every folder created on the way (e.g. backups/full) must be reachable by PostgreSQL too.
  const created = first ? [path] : [];
  for (let p = dirname(path); first && p.length >= first.length; p = dirname(p)) created.push(p);
  for (const p of created) {
    chmodSync(p, mode);
    if (u) chownSync(p, u.uid, u.gid);
  }
  chmodSync(path, mode);
  if (u) chownSync(path, u.uid, u.gid);
}

export function chownTreeToPostgres(path: string): void {
  const u = pgUser();
  if (!u) return;
  chownSync(path, u.uid, u.gid);
  if (!lstatSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) chownTreeToPostgres(join(path, name));
}

export function fileSize(path: string): number {
  return statSync(path).size;
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** Extract a (gzip'd) tar into `dir`, everything owned by the PostgreSQL OS user. */
export async function extractTar(file: string, dir: string): Promise<void> {
  const u = pgUser();
  mkdirForPostgres(dir, 0o700);
  try {
    await tar.x({ file, cwd: dir, strict: true, preserveOwner: false, ...(u ? { uid: u.uid, gid: u.gid } : {}) });
  } catch (e) {
    throw new Error(`${file.split('/').slice(-2).join('/')} cannot be extracted: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Write a gzip'd tar of `names` (files inside `cwd`). */
export async function createTarGz(file: string, cwd: string, names: string[], level: number): Promise<void> {
  await tar.c({ file, cwd, gzip: { level }, portable: true }, names);
}
