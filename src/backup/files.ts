// Folders of the backup area owned by the PostgreSQL OS user (pgBackRest and scratch instances run as it).
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
