// What the bot keeps under CLUSTERBOT_HOME is its user's alone: the audit trail says who did what,
// the logs and outboxes say more. Folders 0700, files 0600; every writer goes through here.
// What PostgreSQL's own programs need (nodes/, pgbackrest/, tls/, the backups and the endpoints' folders) is
// made by their owners with the modes those programs need, behind a home only they can traverse.
import { appendFileSync, chmodSync, chownSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';

export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/** The home folder's entries the bot alone reads and writes (tightened on start). */
export const PRIVATE_ENTRIES = [
  'audit.jsonl', // src/core/audit.ts
  'audit.jsonl.mirrored',
  'logs', // src/core/logger.ts
  'chat', // the Slack and Discord outboxes
  'monitor', // alert state, maintenance, lag history
  'charts', // lag charts
  'sync.json', // src/cluster/sync/state.ts
  'operation-journal.json', // src/cluster/failover/journal.ts
  'operation.lock', // src/cluster/failover/lock.ts
];

export function mkdirPrivate(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
}

export function writePrivate(file: string, data: string | Uint8Array, flag = 'w'): void {
  writeFileSync(file, data, { mode: PRIVATE_FILE, flag });
}

export function appendPrivate(file: string, text: string): void {
  appendFileSync(file, text, { mode: PRIVATE_FILE });
}

export function openPrivate(file: string, flags: string): number {
  return openSync(file, flags, PRIVATE_FILE);
}

/** Write to a temporary name and rename, so a reader (or a crash) never sees half a file. */
export function replacePrivate(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writePrivate(tmp, text);
  renameSync(tmp, file);
}

/**
 * The home's own mode: 0700, or 0710 with the group of the OS user PostgreSQL runs as (when the
 * bot is root), so that user can reach its folders inside without listing or reading the rest.
 */
export function homeAccess(postgresGid: number | null): { mode: number; gid: number | null } {
  return postgresGid === null ? { mode: PRIVATE_DIR, gid: null } : { mode: 0o710, gid: postgresGid };
}

/**
 * Make the home and the bot's own files private, including those an older version left 0755/0644.
 * Says so once in the log when it had to change anything.
 */
export function makeHomePrivate(home: string, postgresGid: number | null, log: Logger): void {
  mkdirSync(home, { recursive: true, mode: PRIVATE_DIR });
  const access = homeAccess(postgresGid);
  let changed = 0;
  const st = lstatSync(home);
  if (access.gid !== null && st.gid !== access.gid) {
    chownSync(home, st.uid, access.gid);
    changed++;
  }
  if ((st.mode & 0o7777) !== access.mode) {
    chmodSync(home, access.mode);
    changed++;
  }
  for (const name of PRIVATE_ENTRIES) changed += tighten(join(home, name));
  if (changed) log.info({ home, paths: changed }, `CLUSTERBOT_HOME made private: ${changed} path(s) tightened (home ${access.mode.toString(8).padStart(4, '0')}, folders 0700, files 0600)`);
}

/** Drop every group and other permission of `path` (and below it); the number of paths changed. */
function tighten(path: string): number {
  if (!existsSync(path)) return 0;
  const st = lstatSync(path);
  if (st.isSymbolicLink() || st.uid !== process.getuid?.()) return 0;
  let changed = 0;
  if (st.mode & 0o077) {
    chmodSync(path, st.mode & 0o700);
    changed++;
  }
  if (st.isDirectory()) for (const name of readdirSync(path)) changed += tighten(join(path, name));
  return changed;
}
