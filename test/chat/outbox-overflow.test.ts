// OUTBOX_MAX on both adapters (real Bolt and discord.js against the stand-ins): during an outage
// more messages queue than the limit; the oldest non-critical ones go first, then the oldest
// critical ones, and once the API is back the channel reads "N older queued messages were
// dropped" before the newest critical alerts. A chat API that hangs (never answers) is timed
// out: the post stays queued and commands keep working.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatAdapters } from '../../src/chat/adapters.js';
import type { DiscordAdapter } from '../../src/chat/discord/discord-adapter.js';
import type { SlackAdapter } from '../../src/chat/slack/adapter.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { DiscordStandIn, snowflake } from '../helpers/discord-standin.js';
import { signedHeaders, SlackStandin, slashCommandBody } from '../helpers/slack-standin.js';

const guild = snowflake();
const alerts = snowflake();
const SECRET = randomBytes(16).toString('hex');

describe('chat outbox limits: OUTBOX_MAX overflow and a hanging API (Slack and Discord)', () => {
  const s = new SlackStandin();
  const d = new DiscordStandIn();
  let c: TestCluster;
  let slack: SlackAdapter;
  let discord: DiscordAdapter;
  const discordTitles = () => [...new Set(d.messages.values())].filter((m) => m.channel_id === alerts).map((m) => String(m.embeds[0]?.title));

  beforeAll(async () => {
    await s.start();
    await d.start();
    c = await startTestCluster({
      up: false,
      env: {
        OUTBOX_MAX: '3',
        OUTBOX_RETRY_MAX_SECONDS: '1',
        CHAT_API_TIMEOUT_MS: '1500',
        SLACK_BOT_TOKEN: `xoxb-${randomBytes(10).toString('hex')}`,
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_API_URL: s.apiUrl,
        SLACK_ALERT_CHANNEL: 'C0ALERTS',
        DISCORD_TOKEN: 'discord-test-TOKEN-overflow-01',
        DISCORD_API_URL: d.apiUrl,
        DISCORD_GUILD_ID: guild,
        DISCORD_ALERT_CHANNEL: alerts,
        ADMINS: 'slack:UADMIN',
      },
    });
    const started = await startChatAdapters(c.app, c.config);
    slack = started.adapters.find((a) => a.name === 'slack') as SlackAdapter;
    discord = started.adapters.find((a) => a.name === 'discord') as DiscordAdapter;
    await c.app.http.listen(c.config.HTTP_PORT, '127.0.0.1');
  });

  afterAll(async () => {
    await c?.destroy();
    await s.stop();
    await d.stop();
  });

  it('keeps the newest critical alerts and says in the channel how many older ones were dropped', async () => {
    s.mode = 'unavailable';
    d.channelMessages = 'unavailable';
    const post = (title: string, severity: 'warn' | 'crit') => c.app.notifier.post('alerts', { title, severity });
    // The first one is on its way (in flight) and is never dropped under the sender.
    await post('Overflow 1 (warn)', 'warn');
    await d.until(() => d.unavailableAttempts > 0, 'a first Discord attempt');
    await s.waitFor((x) => x.method === 'chat.postMessage' && x.status === 503);
    await post('Overflow 2 (crit)', 'crit');
    await post('Overflow 3 (warn)', 'warn');
    await post('Overflow 4 (crit)', 'crit');
    await post('Overflow 5 (crit)', 'crit');
    expect(slack.outbox.stats.dropped).toBe(2);
    expect(discord.outbox.stats.dropped).toBe(2);
    s.mode = 'up';
    d.channelMessages = 'up';
    await Promise.all([slack.outbox.idle(), discord.outbox.idle()]);
    const expected = ['Overflow 1 (warn)', '2 older queued messages were dropped', 'Overflow 4 (crit)', 'Overflow 5 (crit)'];
    expect(s.postsIn('C0ALERTS').map((m) => m.text.replace(/^\S+ /, '').replace(/ — .*/, ''))).toEqual(expected);
    expect(discordTitles().map((t) => t.replace(/^\S+ /, ''))).toEqual(expected);
  });

  it('a chat API that hangs: the call times out, the post stays queued, commands keep working, it goes out once the API answers', async () => {
    s.mode = 'hang';
    d.channelMessages = 'hang';
    const before = { slack: s.postsIn('C0ALERTS').length, discord: discordTitles().length, hung: d.unavailableAttempts };
    await c.app.notifier.post('alerts', { title: 'Posted into a hanging API', severity: 'crit' });
    // Each platform client gives up after CHAT_API_TIMEOUT_MS and the outbox tries again, in order
    // (on Slack a retry first looks for the earlier attempt: that call hangs as well).
    const from = s.calls.length;
    await s.waitFor((x) => x.status === 0 && s.calls.indexOf(x) >= from, 3, 30_000);
    expect(s.calls.slice(from).filter((x) => x.status === 0)[0].method).toBe('chat.postMessage');
    await d.until(() => d.unavailableAttempts >= before.hung + 2, 'two hanging Discord attempts', 60_000);
    expect(slack.outbox.pending).toBe(1);
    expect(discord.outbox.pending).toBe(1);
    // Meanwhile a signed /cluster command is still answered (through Bolt's ack, not the Web API).
    const body = new URLSearchParams(slashCommandBody('help', 'UADMIN', s, 'C0OPS', 'hang-help')).toString();
    const res = await fetch(`http://127.0.0.1:${c.config.HTTP_PORT}/slack/events`, { method: 'POST', headers: signedHeaders(body, SECRET), body });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/\/cluster status/);
    s.mode = 'up';
    d.channelMessages = 'up';
    await Promise.all([slack.outbox.idle(), discord.outbox.idle()]);
    expect(s.postsIn('C0ALERTS').slice(before.slack).map((m) => m.text)).toEqual(['🚨 Posted into a hanging API']);
    expect(discordTitles().slice(before.discord)).toEqual(['🚨 Posted into a hanging API']);
  });
});
