// The bot's own chat messages (alerts, reports, backup cards, their edits) go out one at a time,
// in order, from a queue kept on disk (journal.ts). A failing head is retried with backoff and
// nothing behind it overtakes it; a restarted bot picks up where the dead one stopped. Each
// platform supplies how to deliver a job and which errors are worth retrying (Slack, Discord).
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../core/logger.js';
import { OutboxJournal, type JournalRecord, type JournalState, type QueuedJob } from './journal.js';

export type { QueuedJob } from './journal.js';

export interface DeliveryContext {
  /** A queued id (`q-…`) → the platform's id once delivered, null when dropped; other ids pass through. */
  remoteOf(id: string | undefined): string | null | undefined;
  /** An earlier attempt of this job was started (here or by a bot that died): it may have landed. */
  retry: boolean;
}

export interface Delivery<P> {
  /** Deliver one job; returns the platform id of the message it created, if any. */
  deliver(job: QueuedJob<P>, ctx: DeliveryContext): Promise<string | undefined>;
  /** How long to wait before retrying, or null when retrying cannot help (bad channel, bad token…). */
  retryDelay(err: unknown, attempt: number): number | null;
  /** The message saying `count` older messages were dropped (OUTBOX_MAX), for `channel`. */
  droppedNotice(channel: string, count: number): { kind: string; payload: P };
  describe(err: unknown): unknown;
}

export interface PersistentOutboxOptions {
  /** The journal file (under CLUSTERBOT_HOME). */
  file: string;
  /** OUTBOX_MAX: more undelivered jobs than this drops the oldest, non-critical first. */
  max: number;
  /** Platform name for logs. */
  name: string;
}

const NOTICE = 'dropped-notice';

export const isQueuedId = (id: string | undefined): id is string => typeof id === 'string' && id.startsWith('q-');

export class PersistentOutbox<P> {
  private readonly journal: OutboxJournal;
  private readonly state: JournalState;
  private seq = 0;
  private draining: Promise<void> | null = null;
  private inflight: string | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  /** Dropped by OUTBOX_MAX and not yet announced, per channel. */
  private readonly droppedBy = new Map<string, number>();
  private journalError = false;
  readonly stats = { delivered: 0, failedAttempts: 0, dropped: 0, recovered: 0 };

  constructor(
    private readonly delivery: Delivery<P>,
    private readonly log: Logger,
    private readonly opts: PersistentOutboxOptions,
  ) {
    this.journal = new OutboxJournal(opts.file);
    this.state = this.journal.open();
    this.seq = Math.max(0, ...this.state.pending.map((j) => Math.ceil(j.seq)));
    this.stats.recovered = this.state.pending.length;
    for (const j of this.state.pending) if (j.kind === NOTICE) this.droppedBy.set(j.channel, noticeCount(j));
    if (this.state.pending.length) this.log.warn({ outbox: opts.name, queued: this.state.pending.length }, 'chat outbox: messages queued before the restart will be delivered in order');
  }

  get pending(): number {
    return this.state.pending.length;
  }

  /** Start delivering what a previous run left (call once the platform client is ready). */
  resume(): void {
    this.kick();
  }

  /** Queue a job: on disk (fsync'd) before this returns; its id stands for the message until delivered. */
  enqueue(kind: string, channel: string, payload: P, critical = false): string {
    if (this.stopped) throw new Error(`the ${this.opts.name} outbox is stopped`);
    const job: QueuedJob<P> = { id: `q-${randomBytes(10).toString('hex')}`, seq: ++this.seq, kind, channel, critical, at: Date.now(), payload };
    this.record({ t: 'add', job });
    this.state.pending.push(job);
    this.overflow();
    this.kick();
    return job.id;
  }

  remoteOf(id: string | undefined): string | null | undefined {
    if (!isQueuedId(id)) return id;
    return this.state.remote.get(id);
  }

  /** Resolves once everything queued so far went out (or was dropped as a permanent failure). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private kick(): void {
    if (this.stopped || this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
    });
  }

  /** Over OUTBOX_MAX: drop the oldest non-critical jobs first, then the oldest critical ones; say how many. */
  private overflow(): void {
    const counted = () => this.state.pending.filter((j) => j.kind !== NOTICE && j.id !== this.inflight);
    const dropped = new Map<string, number>();
    while (this.state.pending.filter((j) => j.kind !== NOTICE).length > this.opts.max) {
      const candidates = counted();
      const victim = candidates.find((j) => !j.critical) ?? candidates[0];
      if (!victim) break;
      this.remove(victim.id);
      this.record({ t: 'drop', id: victim.id, reason: 'OUTBOX_MAX' });
      this.state.remote.set(victim.id, null);
      this.stats.dropped++;
      dropped.set(victim.channel, (dropped.get(victim.channel) ?? 0) + 1);
    }
    for (const [channel, n] of dropped) {
      const total = (this.droppedBy.get(channel) ?? 0) + n;
      this.droppedBy.set(channel, total);
      this.log.error({ outbox: this.opts.name, channel, dropped: n, total, max: this.opts.max }, 'chat outbox full (OUTBOX_MAX): dropped the oldest queued messages');
      const existing = this.state.pending.find((j) => j.kind === NOTICE && j.channel === channel && j.id !== this.inflight);
      // A notice already on its way announces its own count; a new one speaks for the rest.
      const sending = this.state.pending.find((j) => j.kind === NOTICE && j.channel === channel && j.id === this.inflight);
      const count = total - (sending ? noticeCount(sending) : 0);
      const notice = this.delivery.droppedNotice(channel, count);
      const payload = { ...(notice.payload as object), noticeKind: notice.kind, [NOTICE]: count } as P;
      if (existing) {
        existing.payload = payload;
        this.record({ t: 'add', job: existing });
        continue;
      }
      // Read first: the notice slots in before the oldest message still queued (after one in flight).
      const first = this.state.pending.find((j) => j.id !== this.inflight);
      const seq = first ? first.seq - 0.5 : ++this.seq;
      const job: QueuedJob<P> = { id: `q-${randomBytes(10).toString('hex')}`, seq, kind: NOTICE, channel, critical: true, at: Date.now(), payload };
      this.record({ t: 'add', job });
      this.state.pending.push(job);
      this.state.pending.sort((a, b) => a.seq - b.seq);
    }
  }

  /**
   * Append to the journal. If that fails (the disk under CLUSTERBOT_HOME is full or gone), the
   * message is still delivered from memory — an alert that cannot be persisted must not be lost too.
   */
  private record(r: JournalRecord): void {
    try {
      this.journal.append(r);
      this.journalError = false;
    } catch (err) {
      if (!this.journalError) this.log.error({ outbox: this.opts.name, err, file: this.opts.file }, 'chat outbox: cannot write the journal; messages are kept in memory only until it works again');
      this.journalError = true;
    }
  }

  private remove(id: string): void {
    const i = this.state.pending.findIndex((j) => j.id === id);
    if (i >= 0) this.state.pending.splice(i, 1);
  }

  private async drain(): Promise<void> {
    let attempt = 0;
    while (this.state.pending.length && !this.stopped) {
      const job = this.state.pending[0] as QueuedJob<P>;
      this.inflight = job.id;
      const retry = job.tried === true;
      try {
        if (!retry) {
          job.triedAt = Date.now();
          this.record({ t: 'try', id: job.id, at: job.triedAt });
          job.tried = true;
        }
        const deliverable = job.kind === NOTICE ? { ...job, kind: String((job.payload as { noticeKind?: string }).noticeKind) } : job;
        const remote = await this.delivery.deliver(deliverable, { remoteOf: (id) => this.remoteOf(id), retry });
        this.finish(job, remote);
        attempt = 0;
      } catch (err) {
        const delay = this.stopped ? null : this.delivery.retryDelay(err, attempt);
        if (delay === null) {
          if (this.stopped) break;
          this.log.error({ outbox: this.opts.name, err: this.delivery.describe(err), kind: job.kind, channel: job.channel }, 'chat outbox: the platform refused a message; dropped (retrying cannot help — check the channel id and the bot permissions)');
          this.remove(job.id);
          this.record({ t: 'drop', id: job.id, reason: 'refused' });
          this.state.remote.set(job.id, null);
          this.stats.dropped++;
          attempt = 0;
          continue;
        }
        this.stats.failedAttempts++;
        attempt++;
        this.log.warn({ outbox: this.opts.name, err: this.delivery.describe(err), kind: job.kind, attempt, retryInMs: delay, queued: this.state.pending.length }, 'chat outbox: platform unavailable, will retry in order');
        await this.sleep(delay);
      } finally {
        this.inflight = null;
      }
    }
    if (!this.state.pending.length && !this.stopped && this.journal.size > 0) this.compact();
  }

  private finish(job: QueuedJob<P>, remote: string | undefined): void {
    this.record(remote === undefined ? { t: 'done', id: job.id } : { t: 'done', id: job.id, remote });
    if (remote !== undefined) this.state.remote.set(job.id, remote);
    if (job.kind === NOTICE) this.droppedBy.set(job.channel, Math.max(0, (this.droppedBy.get(job.channel) ?? 0) - noticeCount(job)));
    this.remove(job.id);
    this.stats.delivered++;
  }

  private compact(): void {
    try {
      this.journal.rewrite(this.state);
    } catch (err) {
      this.log.warn({ err, file: this.opts.file }, 'chat outbox: could not compact the journal (it keeps growing until the next try)');
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  /** Give queued messages up to `graceMs` to go out, then stop; what is left stays in the journal for the next start. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.stopped) return;
    if (this.draining && graceMs > 0) {
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([this.idle(), new Promise<void>((r) => (timeout = setTimeout(r, graceMs)))]);
      clearTimeout(timeout);
    }
    this.stopped = true;
    this.wake?.();
    await this.draining;
    if (this.state.pending.length) this.log.warn({ outbox: this.opts.name, left: this.state.pending.length, file: this.opts.file }, 'chat outbox: stopping with undelivered messages; they go out after the next start');
    this.journal.close();
  }
}

function noticeCount(job: QueuedJob): number {
  return Number((job.payload as Record<string, unknown> | null)?.[NOTICE] ?? 0);
}
