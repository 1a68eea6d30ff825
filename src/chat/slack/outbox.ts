// How the shared persistent outbox delivers to Slack: chat.postMessage / chat.update / a chart
// upload, which Web API errors are worth retrying, and idempotency. Every post carries its queue
// id in Slack message metadata; a post whose earlier attempt may have landed (lost response,
// timeout, a bot killed mid-call) is first looked up in the channel (conversations.history /
// replies with include_all_metadata) and only posted when it is not there.
import { existsSync } from 'node:fs';
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../core/logger.js';
import type { Image } from '../reply.js';
import { droppedNotice } from '../outbox/dropped-notice.js';
import type { Delivery, QueuedJob } from '../outbox/persistent-outbox.js';
import { renderMessage, type SlackMessage } from './blocks.js';

export interface RetryOptions {
  /** First retry delay; doubles up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface SlackPayload {
  message?: SlackMessage;
  /** post: the parent's ts or queued id (a threaded reply). */
  thread?: string;
  /** update: the edited message's ts or queued id. */
  target?: string;
  /** upload: the chart and the post (queued id) it belongs to. */
  image?: Image;
  post?: string;
}

export const OUTBOX_EVENT = 'clusterbot_outbox';

interface SlackishError {
  code?: string;
  statusCode?: number;
  retryAfter?: number;
  data?: { error?: string };
  message?: string;
}

/** How long to wait before retrying, or null when retrying cannot help (bad channel, bad token…). */
export function retryDelay(err: unknown, attempt: number, opts: Required<RetryOptions>): number | null {
  const e = (err ?? {}) as SlackishError;
  const backoff = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.min(attempt, 16));
  if (e.code === 'slack_webapi_rate_limited_error') return Math.max(backoff, (e.retryAfter ?? 1) * 1000);
  if (e.code === 'slack_webapi_http_error') return (e.statusCode ?? 0) >= 500 ? backoff : null;
  if (e.code === 'slack_webapi_request_error') return backoff;
  if (e.code === 'slack_webapi_platform_error') {
    return ['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout'].includes(e.data?.error ?? '') ? backoff : null;
  }
  return null;
}

export function describeSlackError(err: unknown): Record<string, unknown> {
  const e = (err ?? {}) as SlackishError;
  return { code: e.code, statusCode: e.statusCode, retryAfter: e.retryAfter, error: e.data?.error, message: e.message };
}

interface HistoryMessage {
  ts?: string;
  metadata?: { event_type?: string; event_payload?: { outbox_id?: string } };
}

export function slackDelivery(
  api: WebClient,
  log: Logger,
  upload: (channel: string, image: Image, thread?: string) => Promise<void>,
  retry: RetryOptions = {},
): Delivery<SlackPayload> {
  const opts = { baseDelayMs: retry.baseDelayMs ?? 1000, maxDelayMs: retry.maxDelayMs ?? 30_000 };
  let lookupWarned = false;

  /** Did an earlier attempt of this post land? Its ts, or null. Unknown (no history scope) → null. */
  const findPosted = async (job: QueuedJob<SlackPayload>, thread: string | undefined): Promise<string | null> => {
    // From a minute before the first attempt (clocks differ): the post cannot be older than that.
    const query = { channel: job.channel, oldest: (((job.triedAt ?? job.at) - 60_000) / 1000).toFixed(6), include_all_metadata: true, limit: 200 };
    try {
      const res = thread ? await api.conversations.replies({ ...query, ts: thread }) : await api.conversations.history(query);
      const found = ((res.messages ?? []) as HistoryMessage[]).find((m) => m.metadata?.event_type === OUTBOX_EVENT && m.metadata.event_payload?.outbox_id === job.id);
      return found?.ts ?? null;
    } catch (err) {
      if (retryDelay(err, 0, opts) !== null) throw err; // Slack is still unavailable: retry later, do not post blind.
      if (!lookupWarned) log.warn({ err: describeSlackError(err) }, 'slack: cannot look for an earlier attempt of a post (add the channels:history scope); a post whose response was lost may appear twice');
      lookupWarned = true;
      return null;
    }
  };

  return {
    async deliver(job, ctx) {
      const p = job.payload;
      if (job.kind === 'post') {
        // A reply under a parent that was dropped goes to the channel itself.
        const thread = ctx.remoteOf(p.thread) ?? undefined;
        if (ctx.retry) {
          const earlier = await findPosted(job, thread);
          if (earlier) {
            log.info({ outbox: job.id, ts: earlier }, 'slack: an earlier attempt of this post landed; not posting it again');
            return earlier;
          }
        }
        const metadata = { event_type: OUTBOX_EVENT, event_payload: { outbox_id: job.id } };
        const res = await api.chat.postMessage({ channel: job.channel, ...p.message!, metadata, ...(thread ? { thread_ts: thread } : {}) });
        return String(res.ts);
      }
      if (job.kind === 'update') {
        const ts = ctx.remoteOf(p.target);
        // An edit of a post that never went out has nothing to edit.
        if (!ts) return undefined;
        await api.chat.update({ channel: job.channel, ts, ...p.message! });
        return undefined;
      }
      if (job.kind === 'upload') {
        if (!ctx.remoteOf(p.post) || !p.image) return undefined;
        if (!existsSync(p.image.path)) {
          log.warn({ file: p.image.path }, 'slack: the chart of a queued post is gone; posted without it');
          return undefined;
        }
        await upload(job.channel, p.image, ctx.remoteOf(p.thread) ?? undefined);
        return undefined;
      }
      log.error({ kind: job.kind }, 'slack: unknown outbox job; skipped');
      return undefined;
    },
    retryDelay: (err, attempt) => retryDelay(err, attempt, opts),
    droppedNotice: (_channel, count) => ({
      kind: 'post',
      payload: {
        message: renderMessage(droppedNotice('Slack', count)),
      },
    }),
    describe: describeSlackError,
  };
}
