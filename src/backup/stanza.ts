// The stanza on the cluster's primary: created by /cluster up (upgraded after a reset or a major
// upgrade), its archiving checked end to end, and the newest timeline switch its archive holds.
import { existsSync, readdirSync, statSync } from 'node:fs';
import type { Services } from '../core/context.js';
import { UserError } from '../errors.js';
import type { SwitchPoint } from './pgbackrest/info.js';
import { pgbackrestError, type PgBackRestSite } from './pgbackrest/site.js';

/** stanza-create, or stanza-upgrade when the repository holds an earlier database; the outcome as a line. */
export async function ensureStanza(s: Services, site: PgBackRestSite): Promise<string> {
  const snap = await s.snapshot();
  if (!snap.primary) throw new UserError('no writable primary: the stanza cannot be checked', 'bring the cluster up (/cluster up) and try again', 'precondition');
  const create = await site.db([snap.primary], ['stanza-create'], { timeoutMs: 120_000 });
  if (create.code === 0) return `stanza ${s.config.BACKUP_STANZA} ready`;
  // A new database (reset, upgrade) in an existing repository: a new history entry; old backups stay.
  if (/do not match the database|system-id|version/i.test(pgbackrestError(create))) {
    const up = await site.db([snap.primary], ['stanza-upgrade'], { timeoutMs: 120_000 });
    if (up.code === 0) return `stanza ${s.config.BACKUP_STANZA} upgraded to the new database`;
    throw new Error(`pgbackrest stanza-upgrade failed: ${pgbackrestError(up)}`);
  }
  throw new Error(`pgbackrest stanza-create failed: ${pgbackrestError(create)}`);
}

/** pgbackrest check on the primary: a WAL switch archived through archive_command, end to end. */
export async function checkArchiving(s: Services, site: PgBackRestSite): Promise<void> {
  const snap = await s.snapshot();
  if (!snap.primary) throw new UserError('no writable primary to check archiving on', 'bring the cluster up (/cluster up) and try again', 'precondition');
  const r = await site.db([snap.primary], ['check'], { timeoutMs: 180_000 });
  if (r.code !== 0) throw new Error(`pgbackrest check on ${snap.primary} failed: ${pgbackrestError(r)}`);
}

/**
 * The cluster's latest timeline switch (failover or switchover), or null on timeline 1: the
 * primary's timeline, and when its history file reached the repository.
 */
export async function switchPoint(s: Services): Promise<SwitchPoint | null> {
  const snap = await s.snapshot();
  const tli = snap.nodes.find((n) => n.name === snap.primary)?.timeline ?? null;
  if (!tli || tli <= 1) return null;
  const name = `${tli.toString(16).toUpperCase().padStart(8, '0')}.history`;
  const root = `${s.config.walArchiveDir}/archive/${s.config.BACKUP_STANZA}`;
  const dirs = existsSync(root) ? readdirSync(root).filter((d) => existsSync(`${root}/${d}/${name}`)) : [];
  const at = dirs.length ? statSync(`${root}/${dirs.at(-1)}/${name}`).mtime.toISOString() : null;
  return { timeline: tli, at };
}
