// What a chat platform provides to the rest of the bot. Commands arrive through the Router;
// messages the bot sends on its own (alerts, reports) go out through `post`.
import type { Reply } from './reply.js';

export type Channel = 'alerts' | 'reports' | 'backups';

export interface PostedMessage {
  adapter: string;
  /** Platform reference (channel + ts, channel + message id…), opaque to callers. */
  ref: unknown;
}

export interface ChatAdapter {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Post on the bot's own initiative; `thread` replies under an earlier post where the platform can. */
  post(channel: Channel, reply: Reply, opts?: { thread?: PostedMessage }): Promise<PostedMessage>;
  /** Edit an earlier post in place. */
  update(message: PostedMessage, reply: Reply): Promise<void>;
}
