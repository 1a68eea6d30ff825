// The Slack adapter: a real Bolt App, in HTTP mode (Bolt's receiver mounted on the bot's shared
// HttpServer, behind our timestamp/size guard) or Socket Mode (SLACK_APP_TOKEN). Commands and
// clicks go to the Router (handlers.ts); the bot's own posts go through an ordered outbox.
import { App as BoltApp, HTTPReceiver, LogLevel, SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';
import { WebClient, type WebClientOptions } from '@slack/web-api';
import type { AdapterHost } from '../host.js';
import type { Config } from '../../config.js';
import type { Logger } from '../../core/logger.js';
import { UserError } from '../../errors.js';
import type { ChatAdapter, Channel, PostedMessage } from '../adapter.js';
import type { Image, Reply } from '../reply.js';
import { renderMessage } from './blocks.js';
import { registerHandlers } from './handlers.js';
import { PersistentOutbox } from '../outbox/persistent-outbox.js';
import { slackDelivery, type RetryOptions, type SlackPayload } from './outbox.js';
import { SlackPeople } from './people.js';
import { guardSlackRequests } from './security.js';

/** A Slack message of the bot: `ts` once known; `queued` (the outbox id) for a post still on its way. */
export interface SlackRef {
  channel: string;
  ts?: string;
  queued?: string;
}

export interface SlackAdapterOptions {
  /** Retry pacing, and the journal file (default CLUSTERBOT_HOME/chat/slack-outbox.jsonl). */
  outbox?: RetryOptions & { file?: string };
  /** How long a command not marked slow may take before Slack gets a "working…" answer. */
  ackAfterMs?: number;
}

export type SlackMode = 'http' | 'socket';

export function slackMode(config: Config): SlackMode {
  return config.SLACK_MODE ?? (config.SLACK_APP_TOKEN ? 'socket' : 'http');
}

function boltLogger(log: Logger): BoltLogger {
  let level = LogLevel.INFO;
  const write = (fn: 'debug' | 'info' | 'warn' | 'error') => (...msg: unknown[]) => log[fn]({ component: 'slack' }, msg.map((m) => (m instanceof Error ? m.message : typeof m === 'string' ? m : JSON.stringify(m))).join(' '));
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

export class SlackAdapter implements ChatAdapter {
  readonly name = 'slack';
  readonly mode: SlackMode;
  private bolt: BoltApp | null = null;
  /** Web API client for the bot's own posts: no built-in retries, the outbox retries in order. */
  private readonly api: WebClient;
  private box: PersistentOutbox<SlackPayload> | null = null;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly log: Logger;
  private stopped = false;

  constructor(
    private readonly app: AdapterHost,
    private readonly config: Config,
    private readonly opts: SlackAdapterOptions = {},
  ) {
    if (!config.SLACK_BOT_TOKEN) throw new UserError('SLACK_BOT_TOKEN is not set', 'add the bot token (xoxb-…) to .env — see docs/slack.md', 'config');
    this.mode = slackMode(config);
    if (this.mode === 'http' && !config.SLACK_SIGNING_SECRET) throw new UserError('Slack HTTP mode needs SLACK_SIGNING_SECRET', 'add the signing secret to .env, or set SLACK_APP_TOKEN for Socket Mode', 'config');
    if (this.mode === 'socket' && !config.SLACK_APP_TOKEN) throw new UserError('SLACK_MODE=socket needs SLACK_APP_TOKEN', 'add an app-level token (xapp-…) with connections:write to .env', 'config');
    this.log = app.services.log.child({ component: 'slack' });
    this.api = new WebClient(config.SLACK_BOT_TOKEN, { ...this.clientOptions({ retries: 0 }), rejectRateLimitedCalls: true });
  }

  /** The on-disk queue of the bot's own posts, opened on first use (start, or a post). */
  get outbox(): PersistentOutbox<SlackPayload> {
    if (!this.box) {
      const retry = { maxDelayMs: this.config.OUTBOX_RETRY_MAX_SECONDS * 1000, ...this.opts.outbox };
      const delivery = slackDelivery(this.api, this.log, (channel, image, thread) => this.upload(this.api, channel, image, thread), retry);
      this.box = new PersistentOutbox(delivery, this.log, { file: this.opts.outbox?.file ?? `${this.config.home}/chat/slack-outbox.jsonl`, max: this.config.OUTBOX_MAX, name: 'slack' });
    }
    return this.box;
  }

  private clientOptions(retryConfig: WebClientOptions['retryConfig']): WebClientOptions {
    const base = this.config.SLACK_API_URL;
    return {
      ...(base ? { slackApiUrl: base.endsWith('/') ? base : `${base}/` } : {}),
      retryConfig,
      logger: boltLogger(this.log),
      timeout: this.config.CHAT_API_TIMEOUT_MS,
    };
  }

  async start(): Promise<void> {
    const logger = boltLogger(this.log);
    // Interactive calls (editing a card) retry a little; the outbox handles the bot's own posts.
    const clientOptions = this.clientOptions({ retries: 2, factor: 2, minTimeout: 300, maxTimeout: 2000 });
    const common = { token: this.config.SLACK_BOT_TOKEN, logger, clientOptions, deferInitialization: true };
    let receiver: HTTPReceiver | null = null;
    if (this.mode === 'http') {
      receiver = new HTTPReceiver({
        signingSecret: this.config.SLACK_SIGNING_SECRET!,
        endpoints: this.config.SLACK_PATH,
        processBeforeResponse: true,
        bodyLimit: this.config.SLACK_MAX_BODY_BYTES,
        logger,
      });
      this.bolt = new BoltApp({ ...common, receiver });
    } else {
      const socket = new SocketModeReceiver({ appToken: this.config.SLACK_APP_TOKEN!, logger, installerOptions: { clientOptions } });
      this.bolt = new BoltApp({ ...common, receiver: socket });
    }
    this.bolt.error(async (err) => {
      this.log.error({ err: err.message, code: err.code }, 'slack: unhandled error in a listener');
    });
    registerHandlers(this.bolt, {
      router: this.app.router,
      services: this.app.services,
      people: new SlackPeople(this.config, this.bolt.client, this.log),
      client: this.bolt.client,
      track: (work) => this.track(work),
      ackAfterMs: this.opts.ackAfterMs ?? 2500,
      upload: (channel, image, thread) => this.upload(this.bolt!.client, channel, image, thread),
    });
    // auth.test: a wrong token fails here, with Slack's reason, instead of crashing later.
    try {
      await this.bolt.init();
    } catch (e) {
      throw new UserError(`Slack refused the bot token: ${(e as { data?: { error?: string } }).data?.error ?? (e as Error).message}`, 'check SLACK_BOT_TOKEN (OAuth & Permissions → Bot User OAuth Token)', 'config');
    }
    if (receiver) {
      const listener = guardSlackRequests(receiver.requestListener, { audit: this.app.services.audit, log: this.log, maxBodyBytes: this.config.SLACK_MAX_BODY_BYTES });
      this.app.http.route(this.config.SLACK_PATH, (req, res) => {
        if (this.stopped) res.writeHead(503, { 'content-type': 'text/plain' }).end('stopping\n');
        else listener(req, res);
      });
    } else {
      try {
        await this.bolt.start();
      } catch (e) {
        throw new UserError(`Slack Socket Mode did not connect: ${(e as { data?: { error?: string } }).data?.error ?? (e as Error).message}`, 'check SLACK_APP_TOKEN (an app-level token with connections:write, Socket Mode enabled)', 'config');
      }
    }
    this.log.info({ mode: this.mode, path: receiver ? this.config.SLACK_PATH : undefined }, 'slack: ready');
    this.outbox.resume();
  }

  private track(work: Promise<unknown>): void {
    const p = work.finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  private channelId(channel: Channel): string {
    const c = this.config;
    const id = { alerts: c.SLACK_ALERT_CHANNEL, reports: c.SLACK_REPORT_CHANNEL, backups: c.SLACK_BACKUP_CHANNEL ?? c.SLACK_REPORT_CHANNEL }[channel];
    if (!id) throw new UserError(`no Slack channel for ${channel}`, `set ${channel === 'alerts' ? 'SLACK_ALERT_CHANNEL' : 'SLACK_REPORT_CHANNEL'} to a channel id (C…) and invite the bot there`, 'config');
    return id;
  }

  private async upload(client: WebClient, channel: string, image: Image, thread?: string): Promise<void> {
    const file = { file: image.path, filename: image.filename, title: image.alt };
    await client.filesUploadV2(thread ? { ...file, channel_id: channel, thread_ts: thread } : { ...file, channel_id: channel });
  }

  /** Queued on disk (fsync'd) and returned at once; delivered in order, also after a restart. */
  async post(channel: Channel, reply: Reply, opts: { thread?: PostedMessage } = {}): Promise<PostedMessage> {
    const target = this.channelId(channel);
    const parent = opts.thread?.ref as SlackRef | undefined;
    const thread = parent ? (parent.ts ?? parent.queued) : undefined;
    const id = this.outbox.enqueue('post', target, { message: renderMessage(reply), thread }, reply.severity === 'crit');
    // Queued right behind its message, so a chart never lands before the alert it belongs to.
    if (reply.image) this.outbox.enqueue('upload', target, { image: reply.image, post: id, thread });
    return { adapter: this.name, ref: { channel: target, queued: id } satisfies SlackRef };
  }

  async update(message: PostedMessage, reply: Reply): Promise<void> {
    const ref = message.ref as SlackRef;
    const target = ref.ts ?? ref.queued;
    if (!ref.channel || !target) throw new Error('not a Slack message of this bot');
    this.outbox.enqueue('update', ref.channel, { message: renderMessage(reply), target });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.mode === 'socket') await this.bolt?.stop().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'slack: socket close failed'));
    // Work still answering Slack gets a moment to finish; the audit trail has the rest.
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise((r) => setTimeout(r, 10_000).unref())]);
    await this.box?.stop();
  }
}
