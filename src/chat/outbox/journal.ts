// The on-disk half of a chat outbox: an append-only JSON-lines journal under CLUSTERBOT_HOME.
// Every record is fsync'd before the call returns, so a message counts as queued only once it
// would survive a `kill -9` or a power cut. A torn last line (killed mid-write) is ignored.
// When the queue drains the journal is rewritten (temp file, fsync, rename) down to the id map.
import { closeSync, existsSync, fsyncSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileDurably } from '../../core/durable-file.js';
import { mkdirPrivate, openPrivate } from '../../core/private-files.js';

export interface QueuedJob<P = unknown> {
  /** `q-…`: stands in for the platform's message id until the post went through. */
  id: string;
  /** Delivery order (a drop notice slots in before the oldest job it speaks for). */
  seq: number;
  kind: string;
  /** The platform channel the job goes to. */
  channel: string;
  /** Critical alerts are the last to go when the queue overflows OUTBOX_MAX. */
  critical: boolean;
  /** When it was queued (epoch ms). */
  at: number;
  payload: P;
  /** An attempt was started before (maybe by a bot that died): it may have landed, so look before reposting. */
  tried?: boolean;
  /** When the first attempt started (epoch ms): where to start looking. */
  triedAt?: number;
}

export type JournalRecord =
  | { t: 'add'; job: QueuedJob }
  | { t: 'try'; id: string; at?: number }
  | { t: 'done'; id: string; remote?: string }
  | { t: 'drop'; id: string; reason: string }
  | { t: 'map'; id: string; remote: string | null };

export interface JournalState {
  /** Undelivered jobs, in delivery order. */
  pending: QueuedJob[];
  /** Queued id → the platform's id once delivered (null: dropped, nothing to edit). */
  remote: Map<string, string | null>;
}

/** How many delivered ids a compacted journal remembers (edits of alerts posted long ago). */
const MAP_KEEP = 2000;

export class OutboxJournal {
  private fd: number | null = null;
  private records = 0;

  constructor(readonly file: string) {}

  /** Read what a previous run left, then keep the file open for appending. */
  open(): JournalState {
    mkdirPrivate(dirname(this.file));
    const state = existsSync(this.file) ? replay(readFileSync(this.file, 'utf8')) : { pending: [], remote: new Map() };
    this.rewrite(state);
    return state;
  }

  append(record: JournalRecord): void {
    if (this.fd === null) throw new Error(`the outbox journal ${this.file} is closed`);
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
    fsyncSync(this.fd);
    this.records++;
  }

  /** Rewrite the journal as just `state` (pending jobs and the newest id mappings). */
  rewrite(state: JournalState): void {
    const maps = [...state.remote].slice(-MAP_KEEP).map(([id, remote]): JournalRecord => ({ t: 'map', id, remote }));
    const lines = [...maps, ...state.pending.map((job): JournalRecord => ({ t: 'add', job }))].map((r) => `${JSON.stringify(r)}\n`).join('');
    writeFileDurably(this.file, lines);
    this.close();
    this.fd = openPrivate(this.file, 'a');
    this.records = maps.length + state.pending.length;
  }

  get size(): number {
    return this.records;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Rebuild the queue from journal text; a line that does not parse (a torn write) is skipped. */
export function replay(text: string): JournalState {
  const jobs = new Map<string, QueuedJob>();
  const remote = new Map<string, string | null>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let r: JournalRecord;
    try {
      r = JSON.parse(line) as JournalRecord;
    } catch {
      continue;
    }
    if (r.t === 'add') jobs.set(r.job.id, { ...jobs.get(r.job.id), ...r.job });
    else if (r.t === 'try') {
      const j = jobs.get(r.id);
      if (j) {
        j.tried = true;
        j.triedAt = r.at;
      }
    } else if (r.t === 'done') {
      jobs.delete(r.id);
      if (r.remote !== undefined) remote.set(r.id, r.remote);
    } else if (r.t === 'drop') {
      jobs.delete(r.id);
      remote.set(r.id, null);
    } else if (r.t === 'map') remote.set(r.id, r.remote);
  }
  return { pending: [...jobs.values()].sort((a, b) => a.seq - b.seq), remote };
}
