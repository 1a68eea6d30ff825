// The bot on top of a Patroni harness: a real App with CLUSTER_BACKEND=patroni, test users, a
// recording chat adapter for the bot's own posts, and a write load that counts committed rows.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { adminClientConfig } from '../../src/db/tls.js';
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { ChatAdapter, Channel, PostedMessage } from '../../src/chat/adapter.js';
import type { Reply } from '../../src/chat/reply.js';
import type { Principal, Surface } from '../../src/core/context.js';
import type { PatroniWatch } from '../../src/patroni/watch.js';
import { botTestEnv } from '../helpers/cluster.js';
import type { PatroniHarness } from './harness.js';

export class RecordingAdapter implements ChatAdapter {
  readonly name = 'recording';
  readonly posts: Array<{ channel: Channel; reply: Reply; at: number }> = [];
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async post(channel: Channel, reply: Reply): Promise<PostedMessage> {
    this.posts.push({ channel, reply, at: Date.now() });
    return { adapter: this.name, ref: this.posts.length };
  }
  async update(): Promise<void> {}
}

export interface PatroniBot {
  app: App;
  config: Config;
  chat: RecordingAdapter;
  run(text: string, who?: Principal): Promise<Reply>;
  press(actionId: string, who?: Principal): Promise<Reply>;
  sql<R = Record<string, unknown>>(node: string, text: string, params?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

export const person = (id: string): Principal => ({ id, display: id, platform: 'shell' });

export async function startPatroniBot(h: PatroniHarness, env: Record<string, string> = {}): Promise<PatroniBot> {
  const home = join(h.dir, 'bot');
  mkdirSync(home, { recursive: true });
  const config = loadConfig({
    ...h.env,
    CLUSTERBOT_HOME: home,
    ...(await botTestEnv()),
    PATRONI_WATCH_INTERVAL_MS: '500',
    // The bot's deadline for observing a Patroni action's outcome: a reinitialize re-clones a member,
    // which on a loaded 2-core CI machine running three Patroni clusters can outlast the 60-s default.
    PATRONI_ACTION_TIMEOUT_SECONDS: '180',
    ...env,
  });
  const app = await createApp(config);
  const chat = new RecordingAdapter();
  app.notifier.add(chat);
  const admin = person('tester');
  const surface: Surface = { platform: 'shell', channel: 'test' };
  return {
    app,
    config,
    chat,
    run: (text, who = admin) => app.router.handle(text, who, surface),
    press: (id, who = admin) => app.router.press(id, who, surface),
    async sql(node, text, params = []) {
      return (await app.services.pools.query(app.services.node(node), text, params)).rows as never;
    },
    close: () => app.close(),
  };
}

/**
 * The bot's one monitor as `clusterbot start` runs it on Patroni (the native loop and the Patroni
 * rules, one alert manager); the watch counts its looks, stop() stops the monitor.
 */
export async function watchPatroni(bot: PatroniBot): Promise<PatroniWatch> {
  await bot.app.services.monitor.start();
  const watch = bot.app.services.monitor.running!.backendWatch!;
  return {
    get ticks() {
      return watch.ticks;
    },
    stop: () => bot.app.services.monitor.stop(),
  };
}

/** Inserts rows as fast as it can into whichever node accepts writes; remembers every acknowledged id. */
export class WriteLoad {
  readonly committed: number[] = [];
  errors = 0;
  private next = 1;
  private running = true;
  private done: Promise<void> = Promise.resolve();

  constructor(private readonly config: Config) {}

  start(): void {
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  private async connectWritable(): Promise<pg.Client | null> {
    for (const n of this.config.nodes) {
      const c = new pg.Client(adminClientConfig(this.config, n, { connectionTimeoutMillis: 1000 }));
      c.on('error', () => undefined);
      try {
        await c.connect();
        if (!(await c.query('SELECT pg_is_in_recovery() AS r')).rows[0].r) return c;
      } catch {
        // try the next node
      }
      await c.end().catch(() => undefined);
    }
    return null;
  }

  private async loop(): Promise<void> {
    let client: pg.Client | null = null;
    while (this.running) {
      if (!client) client = await this.connectWritable();
      if (!client) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const id = this.next++;
      try {
        await client.query('INSERT INTO proyecto.load_test (id) VALUES ($1)', [id]);
        this.committed.push(id);
      } catch {
        this.errors++;
        await client.end().catch(() => undefined);
        client = null;
      }
    }
    await client?.end().catch(() => undefined);
  }
}
