// Finding the system's PostgreSQL programs: PG_BIN, then pg_config --bindir, then /usr/lib/postgresql/<ver>/bin.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { UserError } from '../errors.js';

const SUPPORTED = [17, 16, 15];

export function findPgBin(configured?: string): string | null {
  const candidates: string[] = [];
  if (configured) candidates.push(configured);
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // pg_config is optional (it comes with libpq-dev)
  }
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql')
      .map(Number)
      .filter((v) => SUPPORTED.includes(v))
      .sort((a, b) => b - a);
    for (const v of versions) candidates.push(`/usr/lib/postgresql/${v}/bin`);
  }
  for (const dir of candidates) {
    if (existsSync(`${dir}/postgres`) && existsSync(`${dir}/initdb`) && existsSync(`${dir}/pg_basebackup`)) return dir;
  }
  return null;
}

export function missingPgBinError(): UserError {
  return new UserError(
    'PostgreSQL server binaries (postgres, initdb, pg_basebackup) were not found',
    'install them with `sudo apt-get install -y postgresql-15` (Debian/Ubuntu), or set PG_BIN to their folder',
    'prerequisite',
  );
}

/** Find the binaries; when root on Debian and they are missing, install them with apt. */
export function ensurePgBin(configured: string | undefined, log: (msg: string) => void): string {
  const found = findPgBin(configured);
  if (found) return found;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    log('PostgreSQL binaries missing: installing postgresql-15 with apt-get (root)…');
    try {
      execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 postgresql-client-15'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch (e) {
      throw new UserError(`apt-get could not install postgresql-15: ${(e as Error).message.split('\n')[0]}`, 'install it by hand, or set PG_BIN', 'prerequisite');
    }
    const again = findPgBin(configured);
    if (again) return again;
  }
  throw missingPgBinError();
}
