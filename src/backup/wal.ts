// WAL segment names (TTTTTTTTLLLLLLLLSSSSSSSS) as positions, and continuity over an archive listing.
// Pure functions: the archive folder is read by the callers.
import { parseLsn } from '../cluster/lsn.js';

/** initdb's default; clusterbot never changes --wal-segsize. */
export const WAL_SEGMENT_BYTES = 16 * 1024 * 1024;
const SEGS_PER_XLOGID = 0x1_0000_0000 / WAL_SEGMENT_BYTES;

export const SEGMENT_NAME = /^[0-9A-F]{24}$/;
export const HISTORY_NAME = /^[0-9A-F]{8}\.history$/;

export interface Segment {
  name: string;
  timeline: number;
  /** Segment number since the start of WAL: comparable across timelines. */
  position: number;
}

export function parseSegment(name: string): Segment | null {
  if (!SEGMENT_NAME.test(name)) return null;
  const tli = parseInt(name.slice(0, 8), 16);
  const log = parseInt(name.slice(8, 16), 16);
  const seg = parseInt(name.slice(16, 24), 16);
  if (seg >= SEGS_PER_XLOGID) return null;
  return { name, timeline: tli, position: log * SEGS_PER_XLOGID + seg };
}

export function segmentName(timeline: number, position: number): string {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
  return hex(timeline) + hex(Math.floor(position / SEGS_PER_XLOGID)) + hex(position % SEGS_PER_XLOGID);
}

/** The segment holding an LSN such as "0/3000028". */
export function segmentOfLsn(lsn: string, timeline: number): Segment {
  const bytes = parseLsn(lsn);
  if (bytes === null) throw new Error(`not an LSN: ${lsn}`);
  const position = Number(bytes / BigInt(WAL_SEGMENT_BYTES));
  return { name: segmentName(timeline, position), timeline, position };
}

/** Archive file names → segments sorted by position, then timeline (history and .backup files ignored). */
export function segmentsOf(names: string[]): Segment[] {
  return names
    .map(parseSegment)
    .filter((s): s is Segment => s !== null)
    .sort((a, b) => a.position - b.position || a.timeline - b.timeline);
}

export interface Continuity {
  ok: boolean;
  /** The first position with no segment on any timeline, named on the timeline before it. */
  firstMissing: string | null;
  missingCount: number;
  /** One segment per position (the highest timeline), first to last. */
  segments: Segment[];
}

/**
 * Is every segment from `from` to `to` (positions, inclusive) present? After a promotion the
 * new timeline starts mid-way, so any timeline counts for a position; the newest one wins.
 */
export function checkContinuity(available: Segment[], from: number, to: number, startTimeline = 1): Continuity {
  const byPosition = new Map<number, Segment>();
  for (const s of available) {
    const have = byPosition.get(s.position);
    if (!have || s.timeline > have.timeline) byPosition.set(s.position, s);
  }
  const segments: Segment[] = [];
  let firstMissing: string | null = null;
  let missingCount = 0;
  let timeline = startTimeline;
  for (let p = from; p <= to; p++) {
    const s = byPosition.get(p);
    if (s) {
      segments.push(s);
      timeline = s.timeline;
    } else {
      missingCount++;
      firstMissing ??= segmentName(timeline, p);
    }
  }
  return { ok: missingCount === 0, firstMissing, missingCount, segments };
}
