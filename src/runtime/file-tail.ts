// The last lines of a log that may be large: only its end is read.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

/** The last `lines` lines of `file` ('' when it does not exist). */
export function tailLines(file: string, lines: number): string {
  if (!existsSync(file)) return '';
  const size = statSync(file).size;
  const want = Math.min(size, Math.max(64 * 1024, lines * 400));
  const buf = Buffer.alloc(want);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, want, size - want);
  } finally {
    closeSync(fd);
  }
  const all = buf.toString('utf8').split('\n');
  if (all.at(-1) === '') all.pop();
  return all.slice(-lines).join('\n');
}
