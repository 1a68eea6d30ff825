// The bot's own Discord posts (alerts, reports, backups) and their later edits go through one
// ordered queue: a failing head is retried with backoff and nothing behind it overtakes it, so
// an outage delays messages but never loses or reorders them. Each post carries a nonce that
// Discord enforces (enforce_nonce), so a retry after a lost response cannot create a duplicate.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../core/logger.js';
import type { DiscordMessage } from './render.js';

/** A post's handle: the message id is known once the post went through. */
export class OutboxRef {
  messageId: string | null = null;
  dropped = false;
  readonly nonce = randomBytes(12).toString('hex').slice(0, 24);
  constructor(readonly channelId: string) {}
}

export type OutboxJob =
  | { kind: 'post'; ref: OutboxRef; message: DiscordMessage; replyTo?: OutboxRef }
  | { kind: 'update'; ref: OutboxRef; message: DiscordMessage };

export interface OutboxTransport {
  /** Create the message; returns its id. */
  post(channelId: string, message: DiscordMessage, nonce: string, replyTo: string | null): Promise<string>;
  update(channelId: string, messageId: string, message: DiscordMessage): Promise<void>;
}

export interface OutboxOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** 4xx other than 408/429 will never succeed by retrying (bad channel id, missing permission). */
function permanent(err: unknown): boolean {
  const status = (err as { status?: number }).status;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

export class Outbox {
  private readonly queue: OutboxJob[] = [];
  private draining: Promise<void> | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  /** Deliveries and failed attempts, for logs and tests. */
  readonly stats = { delivered: 0, failedAttempts: 0, dropped: 0 };

  constructor(
    private readonly transport: OutboxTransport,
    private readonly log: Logger,
    opts: OutboxOptions = {},
  ) {
    this.baseDelayMs = opts.baseDelayMs ?? 500;
    this.maxDelayMs = opts.maxDelayMs ?? 30_000;
  }

  get pending(): number {
    return this.queue.length;
  }

  push(job: OutboxJob): void {
    if (this.stopped) throw new Error('the Discord outbox is stopped');
    this.queue.push(job);
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
    });
  }

  /** Resolves once everything queued so far went out (or was dropped as permanent failure). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    let attempt = 0;
    while (this.queue.length && !this.stopped) {
      const job = this.queue[0];
      try {
        await this.deliver(job);
        this.queue.shift();
        this.stats.delivered++;
        attempt = 0;
      } catch (err) {
        if (permanent(err)) {
          this.queue.shift();
          job.ref.dropped ||= job.kind === 'post';
          this.stats.dropped++;
          this.log.error({ err, channel: job.ref.channelId, kind: job.kind }, 'discord refused a message; dropped (check the channel id and the bot permissions)');
          continue;
        }
        this.stats.failedAttempts++;
        const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(attempt++, 10));
        this.log.warn({ err: String(err), channel: job.ref.channelId, kind: job.kind, queued: this.queue.length, retryInMs: delay }, 'discord post failed; will retry in order');
        await this.sleep(delay);
      }
    }
  }

  private async deliver(job: OutboxJob): Promise<void> {
    if (job.kind === 'post') {
      const replyTo = job.replyTo?.messageId ?? null;
      job.ref.messageId = await this.transport.post(job.ref.channelId, job.message, job.ref.nonce, replyTo);
      return;
    }
    // An edit of a post that never went through has nothing to edit.
    if (job.ref.dropped || !job.ref.messageId) return;
    await this.transport.update(job.ref.channelId, job.ref.messageId, job.message);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    }).then(() => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.wake = null;
    });
  }

  /** Give queued messages up to `graceMs` to go out, then stop; what is left is logged. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.draining) {
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([this.idle(), new Promise<void>((r) => (timeout = setTimeout(r, graceMs)))]);
      clearTimeout(timeout);
    }
    this.stopped = true;
    this.wake?.();
    await this.draining;
    if (this.queue.length) this.log.error({ left: this.queue.length }, 'discord outbox stopped with undelivered messages');
  }
}
