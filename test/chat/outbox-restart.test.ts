// The chat outbox survives a crash: the bot runs as a real child process (`clusterbot start`) with
// the real Bolt and discord.js clients pointed at the stand-ins, both answering 503 for the bot's
// posts. Three alerts are queued (node down ×2, then one resolved — a reply to, and an edit of, a
// post that is itself still queued), the bot is killed with SIGKILL and started again, the APIs
// come back: each platform gets exactly those three, in order, once, threaded and edited right.
import { readFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { replay } from '../../src/chat/outbox/journal.js';
import { BotProcess } from '../helpers/bot-process.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { DiscordStandIn, snowflake } from '../helpers/discord-standin.js';
import { SlackStandin } from '../helpers/slack-standin.js';

const guild = snowflake();
const discordAlerts = snowflake();

async function squat(port: number): Promise<Server> {
  const srv = createServer((socket) => socket.destroy());
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
  return srv;
}

/** Wait for `probe` to hold (deadline); on timeout say what `seen` showed last. */
async function until(what: string, probe: () => boolean, seen: () => unknown = () => null, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last: unknown;
    try {
      if (probe()) return;
      last = seen();
    } catch (e) {
      last = e instanceof Error ? e.message : e;
    }
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}; last saw: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('chat outbox across kill -9 (Slack and Discord, real clients, bot as a child process)', () => {
  const slack = new SlackStandin();
  const discord = new DiscordStandIn();
  let c: TestCluster;
  let bot: BotProcess;
  const squatters: Server[] = [];
  const journal = (platform: 'slack' | 'discord') => {
    const file = join(c.home, 'chat', `${platform}-outbox.jsonl`);
    return existsSync(file) ? replay(readFileSync(file, 'utf8')) : { pending: [], remote: new Map() };
  };
  const kinds = (p: 'slack' | 'discord') => journal(p).pending.map((j) => j.kind).join(',');
  const both = () => `slack: ${kinds('slack')}; discord: ${kinds('discord')}`;
  const alertState = () => JSON.parse(readFileSync(join(c.home, 'monitor', 'alerts.json'), 'utf8')) as { alerts: Record<string, { messages: unknown[] }> };

  beforeAll(async () => {
    await slack.start();
    await discord.start();
    c = await startTestCluster();
    bot = new BotProcess({
      ...c.env,
      LOG_TO: 'file',
      MONITOR_INTERVAL_SECONDS: '1',
      BACKUP_SCHEDULES: 'false',
      HEALTH_REPORT_CRON: 'off',
      DISK_USAGE_WARN: '100',
      DISK_USAGE_CRIT: '100',
      NOT_STREAMING_WARN_SECONDS: '600',
      OUTBOX_RETRY_MAX_SECONDS: '1',
      SLACK_BOT_TOKEN: `xoxb-${randomBytes(10).toString('hex')}`,
      SLACK_SIGNING_SECRET: randomBytes(16).toString('hex'),
      SLACK_API_URL: slack.apiUrl,
      SLACK_ALERT_CHANNEL: 'C0ALERTS',
      DISCORD_TOKEN: 'discord-test-TOKEN-restart-0123',
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_GUILD_ID: guild,
      DISCORD_ALERT_CHANNEL: discordAlerts,
    });
  });

  afterAll(async () => {
    await bot?.stop();
    for (const s of squatters) await new Promise<void>((r) => s.close(() => r()));
    await c?.destroy();
    await slack.stop();
    await discord.stop();
  });

  it('three alerts queued during a 503 outage, kill -9, restart, APIs back → exactly those three, in order, once, on both', async () => {
    onTestFailed(() => {
      const log = readFileSync(join(c.home, 'logs', 'clusterbot.log'), 'utf8').split('\n').filter((l) => /outbox|slack|discord/.test(l));
      console.log(`slack calls: ${slack.calls.map((x) => `${x.method}:${x.status}:${String(x.body.channel ?? '')}`).join(' ')}`);
      console.log(`bot log (chat lines):\n${log.slice(-40).map((l) => l.slice(0, 400)).join('\n')}`);
    });
    slack.mode = 'unavailable';
    discord.channelMessages = 'unavailable';
    bot.start();
    await bot.until(/serving slack and discord/, 'the bot to serve Slack and Discord');

    const { runtime } = c.app.services;
    const readonly = c.app.services.node('readonly');
    const standby = c.app.services.node('standby');
    // Node down: readonly, then standby (their ports held, so the restarted bot cannot start them).
    await runtime.stop(readonly, 'fast');
    squatters.push(await squat(readonly.port));
    await until('the first alert queued on both', () => journal('slack').pending.length >= 1 && journal('discord').pending.length >= 1, () => both());
    await runtime.stop(standby, 'fast');
    squatters.push(await squat(standby.port));
    await until('the second alert queued on both', () => journal('slack').pending.length >= 2 && journal('discord').pending.length >= 2, () => both());
    // readonly comes back: its alert is resolved — an edit of post 1 and a reply under it, both queued.
    await new Promise<void>((r) => squatters.shift()!.close(() => r()));
    await runtime.start(readonly);
    await until('post, post, update, post queued on both', () => both() === 'slack: post,post,update,post; discord: post,post,update,post', both);
    // The alert state that goes with them is on disk too (otherwise a restart would post them anew).
    await until(
      'alerts.json to match',
      () => {
        const a = alertState().alerts;
        return !a['node_down:readonly'] && (a['node_down:standby']?.messages.length ?? 0) === 2;
      },
      () => alertState(),
    );
    expect(slack.posted).toHaveLength(0);
    expect([...discord.messages.values()].filter((m) => m.channel_id === discordAlerts)).toHaveLength(0);
    const attemptsBefore = discord.unavailableAttempts;

    await bot.kill9();
    bot.start();
    await bot.until(/serving slack and discord/, 'the restarted bot');
    await until('delivery attempts by the restarted bot', () => discord.unavailableAttempts > attemptsBefore, () => discord.unavailableAttempts);
    slack.mode = 'up';
    discord.channelMessages = 'up';

    await until('both journals drained', () => both() === 'slack: ; discord: ', both, 90_000);
    // Slack: exactly three posts, in order; the third in the first one's thread; the first edited to resolved.
    const posts = slack.postsIn('C0ALERTS');
    expect(posts.map((m) => m.text)).toEqual([expect.stringMatching(/^⚠️ Node down: readonly/), expect.stringMatching(/^⚠️ Node down: standby/), expect.stringMatching(/^✅ Resolved — Node down: readonly/)]);
    expect(posts[2].thread_ts).toBe(posts[0].ts);
    expect(posts[0].edits.map((e) => String(e.text))).toEqual([expect.stringMatching(/^✅ Resolved — Node down: readonly/)]);
    expect(posts[1].edits).toHaveLength(0);
    // Discord: the same three, the third a reply to the first, the first edited.
    const created = discord.requests.filter((r) => r.method === 'POST' && r.path === `/channels/${discordAlerts}/messages`);
    const stored = [...new Set(discord.messages.values())].filter((m) => m.channel_id === discordAlerts);
    expect(stored.map((m) => m.embeds[0]?.title)).toEqual([expect.stringMatching(/^✅ Resolved — Node down: readonly/), '⚠️ Node down: standby', expect.stringMatching(/^✅ Resolved — Node down: readonly/)]);
    expect(created.map((r) => r.body.embeds[0].title)).toEqual(['⚠️ Node down: readonly', '⚠️ Node down: standby', expect.stringMatching(/^✅ Resolved — Node down: readonly/)]);
    expect(created[2].body.message_reference?.message_id).toBe(stored[0].id);
    expect(stored[0].edits).toHaveLength(1);
    // Once: drained, then compacted (the bot rewrites the journal right after its last "done", which
    // this process can read in between), nothing left to send, and the bot is still serving.
    const slackJournal = () => readFileSync(join(c.home, 'chat', 'slack-outbox.jsonl'), 'utf8');
    await until('the drained journal compacted', () => !/"t":"add"/.test(slackJournal()), () => slackJournal().slice(0, 300));
    expect(bot.out).toMatch(/serving slack and discord/);
  });
});
