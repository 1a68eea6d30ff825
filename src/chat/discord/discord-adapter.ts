// The Discord adapter: a discord.js gateway client (intent Guilds only: slash commands and
// buttons arrive as interactions, no message content is read), `/cluster` registered on start,
// and the bot's own posts sent through an ordered, retrying outbox.
import { readFile } from 'node:fs/promises';
import { Client, Events, GatewayIntentBits, Routes } from 'discord.js';
import type { APIMessage, RESTGetAPIApplicationCommandsResult } from 'discord-api-types/v10';
import type { Config } from '../../config.js';
import type { AppServices } from '../../core/command.js';
import type { Logger } from '../../core/logger.js';
import type { Router } from '../../core/router.js';
import { UserError } from '../../errors.js';
import type { ChatAdapter, Channel, PostedMessage } from '../adapter.js';
import type { Reply } from '../reply.js';
import { handleInteraction } from './interactions.js';
import { PersistentOutbox } from '../outbox/persistent-outbox.js';
import { discordDelivery, type DiscordPayload, type DiscordRef, type OutboxOptions, type OutboxTransport } from './outbox.js';
import { renderMessage, type DiscordMessage } from './render.js';
import { clusterCommand, sameDefinitions } from './slash-commands.js';

export interface DiscordAdapterOptions {
  outbox?: OutboxOptions;
  /** How long start() waits for the gateway's READY. */
  readyTimeoutMs?: number;
}

export interface Registration {
  changed: boolean;
  scope: 'guild' | 'global';
}

export class DiscordAdapter implements ChatAdapter {
  readonly name = 'discord';
  readonly client: Client;
  private box: PersistentOutbox<DiscordPayload> | null = null;
  private readonly log: Logger;
  private readonly config: Config;
  registration: Registration | null = null;
  /** The latest fully answered interactions → how they were answered (deferred, updated, ephemeral…). */
  readonly answered = new Map<string, readonly string[]>();

  constructor(
    private readonly app: { services: AppServices; router: Router },
    private readonly opts: DiscordAdapterOptions = {},
  ) {
    this.config = app.services.config;
    this.log = app.services.log.child({ adapter: 'discord' });
    this.client = new Client({
      intents: [GatewayIntentBits.Guilds],
      allowedMentions: { parse: [] },
      rest: { timeout: this.config.CHAT_API_TIMEOUT_MS, ...(this.config.DISCORD_API_URL ? { api: this.config.DISCORD_API_URL } : {}) },
    });
  }

  /** The on-disk queue of the bot's own posts, opened on first use (start, or a post). */
  get outbox(): PersistentOutbox<DiscordPayload> {
    this.box ??= new PersistentOutbox(discordDelivery(this.transport(), this.log, { maxDelayMs: this.config.OUTBOX_RETRY_MAX_SECONDS * 1000, ...this.opts.outbox }), this.log, {
      file: this.opts.outbox?.file ?? `${this.config.home}/chat/discord-outbox.jsonl`,
      max: this.config.OUTBOX_MAX,
      name: 'discord',
    });
    return this.box;
  }

  async start(): Promise<void> {
    const token = this.config.DISCORD_TOKEN;
    if (!token) throw new UserError('DISCORD_TOKEN is not set', 'set up the bot as in docs/discord.md', 'config');
    const c = this.client;
    c.on(Events.InteractionCreate, (i) => {
      const answered = (id: string, steps: readonly string[]) => {
        this.answered.set(id, steps);
        if (this.answered.size > 200) this.answered.delete(this.answered.keys().next().value!);
      };
      handleInteraction(i, { ...this.app, log: this.log, answered }).catch((err: unknown) => this.log.error({ err }, 'discord interaction handler failed'));
    });
    c.on(Events.Debug, (line) => this.log.debug({ discord: line }, 'discord.js'));
    c.on(Events.Error, (err) => this.log.error({ err }, 'discord client error'));
    c.on(Events.ShardDisconnect, (ev, shard) => this.log.warn({ code: ev.code, shard }, 'discord gateway disconnected'));
    c.on(Events.ShardReconnecting, (shard) => this.log.info({ shard }, 'discord gateway reconnecting'));
    c.on(Events.ShardResume, (shard, replayed) => this.log.info({ shard, replayed }, 'discord gateway resumed'));
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new UserError('Discord did not answer within the timeout', 'check DISCORD_TOKEN and the network (DISCORD_API_URL)', 'prerequisite')), this.opts.readyTimeoutMs ?? 30_000);
      c.once(Events.ClientReady, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    try {
      await c.login(token);
      await ready;
      this.registration = await this.register();
    } catch (err) {
      await c.destroy();
      throw err;
    }
    if (!this.config.DISCORD_ALERT_CHANNEL) this.log.warn('DISCORD_ALERT_CHANNEL is not set: alerts and reports are not posted to Discord');
    this.log.info({ user: c.user?.tag, registration: this.registration }, 'discord adapter ready');
    this.outbox.resume();
  }

  private get applicationId(): string {
    const id = this.config.DISCORD_APPLICATION_ID ?? this.client.application?.id;
    if (!id) throw new UserError('the Discord application id is unknown', 'set DISCORD_APPLICATION_ID', 'config');
    return id;
  }

  /** Register `/cluster` (guild when DISCORD_GUILD_ID is set, else global) — only when it differs from what Discord has. */
  async register(): Promise<Registration> {
    const app = this.applicationId;
    const guild = this.config.DISCORD_GUILD_ID;
    const route = guild ? Routes.applicationGuildCommands(app, guild) : Routes.applicationCommands(app);
    const scope = guild ? 'guild' : 'global';
    const wanted = [clusterCommand(this.app.services.commands, this.config)];
    const registered = (await this.client.rest.get(route)) as RESTGetAPIApplicationCommandsResult;
    if (sameDefinitions(registered, wanted)) return { changed: false, scope };
    await this.client.rest.put(route, { body: wanted });
    this.log.info({ scope, subcommands: wanted[0].options?.length }, 'registered /cluster with Discord');
    return { changed: true, scope };
  }

  private channelId(channel: Channel): string {
    const c = this.config;
    const id = { alerts: c.DISCORD_ALERT_CHANNEL, reports: c.DISCORD_REPORT_CHANNEL ?? c.DISCORD_ALERT_CHANNEL, backups: c.DISCORD_BACKUP_CHANNEL ?? c.DISCORD_REPORT_CHANNEL ?? c.DISCORD_ALERT_CHANNEL }[channel];
    if (!id) throw new UserError(`no Discord channel for ${channel}`, 'set DISCORD_ALERT_CHANNEL (and optionally DISCORD_REPORT_CHANNEL, DISCORD_BACKUP_CHANNEL)', 'config');
    return id;
  }

  /** Queued, ordered and retried: returns at once; the message goes out as soon as Discord takes it. */
  async post(channel: Channel, reply: Reply, opts: { thread?: PostedMessage } = {}): Promise<PostedMessage> {
    const channelId = this.channelId(channel);
    const parent = opts.thread?.ref as DiscordRef | undefined;
    const replyTo = parent ? (parent.messageId ?? parent.queued) : undefined;
    const queued = this.outbox.enqueue('post', channelId, { message: renderMessage(reply), replyTo }, reply.severity === 'crit');
    return { adapter: this.name, ref: { channelId, queued } satisfies DiscordRef };
  }

  async update(message: PostedMessage, reply: Reply): Promise<void> {
    const ref = message.ref as DiscordRef | undefined;
    const target = ref?.messageId ?? ref?.queued;
    if (!ref?.channelId || !target) throw new Error('not a Discord message of this bot');
    this.outbox.enqueue('update', ref.channelId, { message: renderMessage(reply), target });
  }

  async stop(): Promise<void> {
    await this.box?.stop();
    await this.client.destroy();
  }

  private transport(): OutboxTransport {
    const files = async (m: DiscordMessage) => (m.files.length ? Promise.all(m.files.map(async (f) => ({ name: f.name, data: await readFile(f.path) }))) : undefined);
    const attachments = (m: DiscordMessage) => m.files.map((f, id) => ({ id, filename: f.name }));
    return {
      post: async (channelId, m, nonce, replyTo) => {
        const body = {
          embeds: m.embeds,
          components: m.components,
          attachments: attachments(m),
          allowed_mentions: { parse: [] },
          nonce,
          enforce_nonce: true,
          ...(replyTo ? { message_reference: { message_id: replyTo, fail_if_not_exists: false } } : {}),
        };
        const created = (await this.client.rest.post(Routes.channelMessages(channelId), { body, files: await files(m) })) as APIMessage;
        return created.id;
      },
      update: async (channelId, messageId, m) => {
        const body = { embeds: m.embeds, components: m.components, attachments: attachments(m) };
        await this.client.rest.patch(Routes.channelMessage(channelId, messageId), { body, files: await files(m) });
      },
    };
  }
}
