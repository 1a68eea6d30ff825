// Fan-out of the bot's own messages to every configured adapter (Slack and Discord at once).
import type { Logger } from '../core/logger.js';
import type { SecretMasker } from '../core/secrets.js';
import type { ChatAdapter, Channel, PostedMessage } from './adapter.js';
import type { Reply } from './reply.js';

export class Notifier {
  private readonly adapters: ChatAdapter[] = [];

  constructor(
    private readonly log: Logger,
    private readonly masker: SecretMasker,
  ) {}

  add(adapter: ChatAdapter): void {
    this.adapters.push(adapter);
  }

  get names(): string[] {
    return this.adapters.map((a) => a.name);
  }

  /** Post to every adapter; one failing adapter does not stop the others. */
  async post(channel: Channel, reply: Reply, thread?: PostedMessage[]): Promise<PostedMessage[]> {
    const masked = this.masker.maskDeep(reply);
    const out = await Promise.all(
      this.adapters.map(async (a) => {
        try {
          return await a.post(channel, masked, { thread: thread?.find((t) => t.adapter === a.name) });
        } catch (err) {
          this.log.error({ err, adapter: a.name }, 'posting failed');
          return null;
        }
      }),
    );
    return out.filter((m): m is PostedMessage => m !== null);
  }

  async update(messages: PostedMessage[], reply: Reply): Promise<void> {
    const masked = this.masker.maskDeep(reply);
    await Promise.all(
      messages.map(async (m) => {
        const a = this.adapters.find((x) => x.name === m.adapter);
        try {
          await a?.update(m, masked);
        } catch (err) {
          this.log.error({ err, adapter: m.adapter }, 'update failed');
        }
      }),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.adapters.map((a) => a.stop().catch(() => undefined)));
  }
}
