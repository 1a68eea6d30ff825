// pgBackRest never rotates its log files, and Debian's logrotate rule covers /var/log/pgbackrest only.
// The folders the bot points it at (its own commands', the local nodes' archive-push, the Docker
// backups' detail log on the shared volume) would grow with every WAL segment and every backup, so
// a file above LOG_ROTATE_BYTES is moved to <name>.1 (replacing the one before): at most twice that.
import { readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const LOG_ROTATE_BYTES = 32 * 1024 * 1024;

/** Rotate the *.log files of `dir` above `maxBytes`; returns their names. A missing folder has none. */
export function rotateLogs(dir: string, maxBytes = LOG_ROTATE_BYTES): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.log'));
  } catch {
    return [];
  }
  return names.filter((name) => {
    const path = join(dir, name);
    try {
      if (statSync(path).size <= maxBytes) return false;
      // A process still writing keeps its descriptor (the old name); the next one starts a new file.
      renameSync(path, `${path}.1`);
      return true;
    } catch {
      return false; // removed meanwhile
    }
  });
}
