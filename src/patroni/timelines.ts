// What the watcher saw of each timeline: who led it, where it began and the highest LSN the
// bot's own probe read on it. When Patroni hands leadership to a member whose history does not
// contain what was seen (back to an older timeline, or a fork before a freshly promoted leader's
// last write), the difference is WAL that is being discarded: acknowledged writes that are gone.
import { parseLsn } from '../cluster/lsn.js';

export interface TimelineSpan {
  timeline: number;
  leader: string;
  /** Where this timeline began (its history file's switch point), when known. */
  start: string | null;
  /** The first and the highest LSN the probe read on this timeline. */
  firstLsn: string;
  lastLsn: string;
  firstSeen: number;
  lastSeen: number;
  /** The next transaction id at the first and the latest probe: write transactions begun in between. */
  firstXid: number | null;
  lastXid: number | null;
  /** The bot saw this timeline begin (a promotion while it watched), so its writes may be fresh. */
  promotedWhileWatched: boolean;
}

/** A leader's lineage: for each ancestor timeline, the LSN where it was left (its history file). */
export type Lineage = Map<number, string>;

export interface DiscardedRange {
  timeline: number;
  leader: string;
  from: string;
  to: string;
  bytes: number;
  /** Write transactions (ids assigned) the bot saw begin on that timeline: a lower bound of what it held. */
  xidsSeen: number | null;
  /** Why the range counts as discarded, one clause. */
  why: string;
}

/** A member promoted this recently and demoted again counts as "freshly promoted" (its writes may be new to everyone). */
export const FRESH_MS = 10 * 60_000;

/** `00000002.history` → lineage. Lines are "<parent timeline>\t<switch LSN>\t<reason>". */
export function parseHistory(text: string): Lineage {
  const lineage: Lineage = new Map();
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+([0-9A-Fa-f]+\/[0-9A-Fa-f]+)/.exec(line);
    if (m) lineage.set(Number(m[1]), m[2].toUpperCase());
  }
  return lineage;
}

const lsnMax = (a: string, b: string) => ((parseLsn(b) ?? 0n) > (parseLsn(a) ?? 0n) ? b : a);

export class TimelineLedger {
  private readonly spans = new Map<number, TimelineSpan>();

  /** Highest timeline seen, or null before the first probe. */
  get highest(): number | null {
    return this.spans.size ? Math.max(...this.spans.keys()) : null;
  }

  span(timeline: number): TimelineSpan | undefined {
    return this.spans.get(timeline);
  }

  /** A timeline the ledger has not seen yet (its start should be looked up). */
  isNew(timeline: number): boolean {
    return !this.spans.has(timeline);
  }

  see(leader: string, timeline: number, lsn: string, xid: number | null, at: number, start: string | null = null): void {
    const s = this.spans.get(timeline);
    if (!s) {
      const promotedWhileWatched = this.spans.size > 0 && start !== null;
      this.spans.set(timeline, { timeline, leader, start, firstLsn: lsn, lastLsn: lsn, firstSeen: at, lastSeen: at, firstXid: xid, lastXid: xid, promotedWhileWatched });
      return;
    }
    s.lastLsn = lsnMax(s.lastLsn, lsn);
    s.firstXid ??= xid;
    if (xid !== null) s.lastXid = Math.max(s.lastXid ?? xid, xid);
    s.lastSeen = at;
    s.leader = leader;
  }

  /**
   * WAL seen on other timelines that `leader` (on `timeline`, with its `lineage`) does not hold:
   * a timeline above it that is not its ancestor (leadership went back to an older timeline), or an
   * ancestor left before the highest LSN seen on it when that ancestor's leader was freshly promoted.
   * The ranges returned are forgotten, so each is reported once.
   */
  discardedBy(timeline: number, lineage: Lineage, at: number): DiscardedRange[] {
    const out: DiscardedRange[] = [];
    for (const s of [...this.spans.values()].sort((a, b) => a.timeline - b.timeline)) {
      if (s.timeline === timeline) continue;
      const leftAt = lineage.get(s.timeline);
      if (leftAt === undefined && s.timeline > timeline) {
        const from = s.start ?? s.firstLsn;
        out.push(range(s, from, `the new leader is on timeline ${timeline}, which never contained timeline ${s.timeline}`));
        this.spans.delete(s.timeline);
      } else if (leftAt !== undefined && s.promotedWhileWatched && at - s.firstSeen < FRESH_MS && (parseLsn(s.lastLsn) ?? 0n) > (parseLsn(leftAt) ?? 0n)) {
        // Only a freshly promoted leader: an old timeline's tail beyond a fork is the ordinary
        // asynchronous failover loss, reported by the failover card and FAILOVER_MAX_LAG_BYTES.
        out.push(range(s, leftAt, `timeline ${timeline} left timeline ${s.timeline} at ${leftAt}, before what ${s.leader} had written`));
        this.spans.delete(s.timeline);
      }
    }
    return out;
  }
}

function range(s: TimelineSpan, from: string, why: string): DiscardedRange {
  const bytes = Number((parseLsn(s.lastLsn) ?? 0n) - (parseLsn(from) ?? 0n));
  const xidsSeen = s.firstXid !== null && s.lastXid !== null ? s.lastXid - s.firstXid : null;
  return { timeline: s.timeline, leader: s.leader, from, to: s.lastLsn, bytes: Math.max(0, bytes), xidsSeen, why };
}
