// One slash command's answer over time: the first thing shown is the HTTP ack (within 3 s),
// later versions replace it through the response_url. Calls are serialised so edits land in order.
import type { Reply } from '../reply.js';
import { renderMessage, type SlackMessage } from './blocks.js';

/** Slack accepts at most 5 messages per response_url. */
export const RESPONSE_URL_USES = 5;

type Visible = { response_type: 'in_channel' | 'ephemeral' };
export type AckFn = (msg: SlackMessage & Visible) => Promise<void>;
export type RespondFn = (msg: SlackMessage & Visible & { replace_original?: boolean }) => Promise<unknown>;

export class ReplySession {
  private acked = false;
  private responses = 0;
  private chain: Promise<void> = Promise.resolve();
  private ackedSignal!: () => void;
  /** Resolves once Slack has been answered (the listener may return then). */
  readonly whenAcked = new Promise<void>((resolve) => {
    this.ackedSignal = resolve;
  });

  constructor(
    private readonly ack: AckFn,
    private readonly respond: RespondFn,
  ) {}

  private then(step: () => Promise<unknown>): Promise<void> {
    this.chain = this.chain.then(async () => {
      await step();
    });
    return this.chain;
  }

  private async show(reply: Reply): Promise<void> {
    const msg = { ...renderMessage(reply), response_type: reply.ephemeral ? ('ephemeral' as const) : ('in_channel' as const) };
    if (!this.acked) {
      this.acked = true;
      try {
        await this.ack(msg);
      } finally {
        this.ackedSignal();
      }
      return;
    }
    // Replace the first answer ("working…" or a progress step), whatever this one is.
    this.responses++;
    await this.respond({ ...msg, replace_original: true });
  }

  /** Intermediate state of a long command (edits the message in place). */
  progress(reply: Reply): Promise<void> {
    return this.then(async () => {
      // Slack takes 5 messages per response_url: keep the last one for the result.
      if (this.acked && this.responses >= RESPONSE_URL_USES - 1) return;
      await this.show(reply);
    });
  }

  /** Answer at once with a "working" line if nothing has been shown yet. */
  working(reply: Reply): Promise<void> {
    return this.then(async () => {
      if (!this.acked) await this.show(reply);
    });
  }

  finish(reply: Reply): Promise<void> {
    return this.then(() => this.show(reply));
  }
}
