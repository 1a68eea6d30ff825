// How the shared persistent outbox delivers to Discord: create or edit a channel message, and
// which failures are worth retrying. Each post carries its queue id as the message nonce, which
// Discord enforces (enforce_nonce): a retry after a lost response, or by a restarted bot, gets
// the message that already exists instead of a second one.
import type { Logger } from '../../core/logger.js';
import { droppedNotice } from '../outbox/dropped-notice.js';
import type { Delivery } from '../outbox/persistent-outbox.js';
import { renderMessage, type DiscordMessage } from './render.js';

/** A Discord message of the bot: `messageId` once known; `queued` (the outbox id) while on its way. */
export interface DiscordRef {
  channelId: string;
  messageId?: string | null;
  queued?: string;
}

export interface DiscordPayload {
  message: DiscordMessage;
  /** post: the message it replies to (id or queued id). */
  replyTo?: string;
  /** update: the edited message (id or queued id). */
  target?: string;
}

export interface OutboxTransport {
  /** Create the message; returns its id. */
  post(channelId: string, message: DiscordMessage, nonce: string, replyTo: string | null): Promise<string>;
  update(channelId: string, messageId: string, message: DiscordMessage): Promise<void>;
}

export interface OutboxOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** The journal file (default CLUSTERBOT_HOME/chat/discord-outbox.jsonl). */
  file?: string;
}

/** 4xx other than 408/429 will never succeed by retrying (bad channel id, missing permission). */
function permanent(err: unknown): boolean {
  const status = (err as { status?: number }).status;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** Discord allows a nonce of up to 25 characters; queue ids are shorter. */
export const nonceOf = (queuedId: string) => queuedId.slice(0, 25);

export function discordDelivery(transport: OutboxTransport, log: Logger, opts: OutboxOptions = {}): Delivery<DiscordPayload> {
  const base = opts.baseDelayMs ?? 500;
  const max = opts.maxDelayMs ?? 30_000;
  return {
    async deliver(job, ctx) {
      const p = job.payload;
      if (job.kind === 'post') return transport.post(job.channel, p.message, nonceOf(job.id), ctx.remoteOf(p.replyTo) ?? null);
      if (job.kind === 'update') {
        const id = ctx.remoteOf(p.target);
        // An edit of a post that never went through has nothing to edit.
        if (id) await transport.update(job.channel, id, p.message);
        return undefined;
      }
      log.error({ kind: job.kind }, 'discord: unknown outbox job; skipped');
      return undefined;
    },
    retryDelay: (err, attempt) => (permanent(err) ? null : Math.min(max, base * 2 ** Math.min(attempt, 10))),
    droppedNotice: (_channel, count) => ({
      kind: 'post',
      payload: {
        message: renderMessage(droppedNotice('Discord', count)),
      },
    }),
    describe: (err) => String(err),
  };
}
