// The bot's own messages (alerts, reports, their edits) go out one at a time, in order. When the
// Web API fails with a 5xx, a rate limit (429 + Retry-After) or a network error, the head of the
// queue is retried with backoff and everything behind it waits: nothing is lost or reordered,
// and callers are never blocked from queueing more.
import type { Logger } from '../../core/logger.js';

export interface OutboxOptions {
  /** First retry delay; doubles up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

interface Job {
  label: string;
  run(): Promise<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

interface SlackishError {
  code?: string;
  statusCode?: number;
  retryAfter?: number;
  data?: { error?: string };
  message?: string;
}

/** How long to wait before retrying, or null when retrying cannot help (bad channel, bad token…). */
export function retryDelay(err: unknown, attempt: number, opts: Required<OutboxOptions>): number | null {
  const e = (err ?? {}) as SlackishError;
  const backoff = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** attempt);
  if (e.code === 'slack_webapi_rate_limited_error') return Math.max(backoff, (e.retryAfter ?? 1) * 1000);
  if (e.code === 'slack_webapi_http_error') return (e.statusCode ?? 0) >= 500 ? backoff : null;
  if (e.code === 'slack_webapi_request_error') return backoff;
  if (e.code === 'slack_webapi_platform_error') {
    return ['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout'].includes(e.data?.error ?? '') ? backoff : null;
  }
  return null;
}

export class Outbox {
  private readonly queue: Job[] = [];
  private draining: Promise<void> | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private readonly opts: Required<OutboxOptions>;

  constructor(
    private readonly log: Logger,
    opts: OutboxOptions = {},
  ) {
    this.opts = { baseDelayMs: opts.baseDelayMs ?? 1000, maxDelayMs: opts.maxDelayMs ?? 30_000 };
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Queue a Web API call; resolves with its result once delivered, in queue order. */
  send<T>(label: string, run: () => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new Error('the Slack outbox is stopped'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ label, run, resolve: resolve as (v: unknown) => void, reject });
      this.draining ??= this.drain().finally(() => {
        this.draining = null;
      });
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length && !this.stopped) {
      const job = this.queue[0];
      for (let attempt = 0; ; attempt++) {
        try {
          const result = await job.run();
          this.queue.shift();
          job.resolve(result);
          break;
        } catch (err) {
          const delay = this.stopped ? null : retryDelay(err, attempt, this.opts);
          if (delay === null) {
            this.queue.shift();
            this.log.error({ err: describe(err), job: job.label }, 'slack: giving up on a message (retrying cannot help)');
            job.reject(err);
            break;
          }
          this.log.warn({ err: describe(err), job: job.label, attempt: attempt + 1, retryInMs: delay, queued: this.queue.length }, 'slack: Web API unavailable, will retry in order');
          await this.sleep(delay);
          if (this.stopped) break;
        }
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
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

  /** Stop retrying; whatever is still queued is rejected (and logged) so nobody waits forever. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.draining;
    if (this.queue.length) this.log.warn({ undelivered: this.queue.map((j) => j.label) }, 'slack: stopping with undelivered messages');
    for (const job of this.queue.splice(0)) job.reject(new Error('the bot stopped before Slack accepted this message'));
  }
}

function describe(err: unknown): Record<string, unknown> {
  const e = (err ?? {}) as SlackishError;
  return { code: e.code, statusCode: e.statusCode, retryAfter: e.retryAfter, error: e.data?.error, message: e.message };
}
