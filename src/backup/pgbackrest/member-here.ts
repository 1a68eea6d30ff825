// A Patroni member's data directory must be on the bot's machine for the bot's pgBackRest to back it
// up (hostSite). Members in containers or on other machines are named in one line, instead of the
// error pgBackRest gives when it finds no such folder.
import { UserError } from '../../errors.js';
import { runProgram } from '../../runtime/process.js';
import { pgUser } from '../files.js';
import type { PgTarget } from './conf.js';

/** The target as it is, or a UserError when pgBackRest's OS user does not see its data directory here. */
export async function memberHere(t: PgTarget): Promise<PgTarget> {
  const r = await runProgram('test', ['-f', `${t.data}/PG_VERSION`], { user: pgUser(), cwd: '/tmp', timeoutMs: 10_000 });
  if (r.code === 0) return t;
  throw new UserError(
    `Patroni member ${t.name}'s data directory ${t.data} is not on this machine: the bot backs up Patroni members on its own machine only`,
    'for members in containers or on other machines run pgbackrest backup where the leader is (docs/patroni-backups.md)',
    'precondition',
  );
}
