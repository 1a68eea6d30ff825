// Why a node is down, in its own words: the last PANIC or server FATAL line of its log since it was
// last started ("disk full" named first). A dead or crash-looping node then reads "stopped — disk
// full (PANIC: could not write to file "pg_wal/xlogtemp.2316": No space left on device)", not just "stopped".

// log_line_prefix '%m [%p] %q%u@%d ': a session's lines carry user@db, the server's own do not.
const SEVERE = /(\S*@\S*\s+)?\b(PANIC|FATAL):\s+(.*)$/;
// A session's FATAL is that client's fate (refused during a crash restart, bad password), never the
// cause; a session's PANIC is. Of the server's own FATALs, these follow from a stop, not cause it.
const NOISE = /archive command was terminated|terminating walreceiver|could not receive data from WAL stream|could not connect to the primary server|due to administrator command/;
const STARTED = /starting PostgreSQL \d/;
// Someone stopped it on purpose: what went wrong before is not why it is down.
const ASKED_TO_STOP = /received (smart|fast|immediate) shutdown request/;
const DISK_FULL = /No space left on device|could not extend file|disk full/i;

/** The cause line for a node that is down, or null when its log shows none since its last start. */
export function causeFromLog(log: string): string | null {
  const lines = log.split('\n');
  let from = 0;
  lines.forEach((l, i) => {
    if (STARTED.test(l)) from = i;
  });
  let severe: Array<{ level: string; text: string }> = [];
  for (const l of lines.slice(from)) {
    if (ASKED_TO_STOP.test(l)) severe = [];
    const m = SEVERE.exec(l);
    if (!m) continue;
    const [, session, level, text] = m;
    if (level === 'PANIC' || (!session && !NOISE.test(text))) severe.push({ level, text: `${level}: ${text.trim()}` });
  }
  const full = severe.find((s) => DISK_FULL.test(s.text));
  if (full) return `disk full (${full.text})`;
  const pick = severe.find((s) => s.level === 'PANIC') ?? severe.at(-1);
  return pick ? pick.text : null;
}

export const isDiskFull = (cause: string | null | undefined) => Boolean(cause?.startsWith('disk full'));
