// The Discord adapter end to end: the real discord.js Client against a local stand-in of
// Discord's REST API and gateway (SPEC section 9), and a real local 3-node cluster.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineCommand } from '../../src/core/command.js';
import { startChatAdapters } from '../../src/chat/adapters.js';
import { DiscordAdapter } from '../../src/chat/discord/discord-adapter.js';
import type { Reply } from '../../src/chat/reply.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { DiscordStandIn, snowflake, type StoredMessage, type Who } from '../helpers/discord-standin.js';

const guild = snowflake();
const ops = snowflake();
const elsewhere = snowflake();
const alerts = snowflake();
const adminRole = snowflake();
const admin: Who = { userId: snowflake(), username: 'dana', roles: [adminRole] };
const operator: Who = { userId: snowflake(), username: 'oscar', roles: [snowflake()] };
const viewer: Who = { userId: snowflake(), username: 'vera' };

const BUTTON = { danger: 4, secondary: 2 };
const OPTION = { subcommand: 1, string: 3, integer: 4, boolean: 5 };

describe('Discord: /cluster through the real discord.js Client', () => {
  const standin = new DiscordStandIn();
  let c: TestCluster;
  let adapter: DiscordAdapter;
  const puts = () => standin.requests.filter((r) => r.method === 'PUT' && r.path === `/applications/${standin.applicationId}/guilds/${guild}/commands`);
  const channelMessages = (channel: string) => [...new Set(standin.messages.values())].filter((m) => m.channel_id === channel);
  const answered = (i: { token: string }, title: RegExp) =>
    standin.until(() => {
      const m = standin.original(i.token);
      return m && m.embeds.some((e) => title.test(e.title ?? '')) ? m : null;
    }, `a reply titled ${title}`);

  beforeAll(async () => {
    await standin.start();
    c = await startTestCluster({
      env: {
        DISCORD_TOKEN: 'discord-test-TOKEN-0123456789',
        DISCORD_API_URL: standin.apiUrl,
        DISCORD_GUILD_ID: guild,
        DISCORD_ALERT_CHANNEL: alerts,
        DISCORD_ALLOWED_CHANNELS: ops,
        ADMINS: `alice,bob,discord-role:${adminRole}`,
        OPERATORS: `olga,discord:${operator.userId}`,
        VIEWERS: `victor,discord:${viewer.userId}`,
        ...(process.env.DEBUG_STANDIN ? { LOG_TO: 'stderr' } : {}),
      },
    });
    // The production path: startChatAdapters loads the Discord adapter because DISCORD_TOKEN is set.
    const started = await startChatAdapters(c.app, c.config);
    expect(started.terminal).toBe(false);
    adapter = started.adapters.find((a) => a.name === 'discord') as DiscordAdapter;
  });

  afterAll(async () => {
    await c?.destroy();
    await standin.stop();
  });

  it('registers /cluster once with typed subcommands, and again only when the definitions change', async () => {
    expect(puts()).toHaveLength(1);
    const [def] = puts()[0].body as Array<{ name: string; options: Array<{ name: string; type: number; options: any[] }> }>;
    expect(def.name).toBe('cluster');
    const subs = Object.fromEntries(def.options.map((o) => [o.name, o]));
    expect(Object.keys(subs)).toEqual(c.app.services.commands.map((x) => x.name));
    expect(def.options.every((o) => o.type === OPTION.subcommand)).toBe(true);
    expect(subs.stop.options).toEqual([
      { name: 'node', description: 'the node to stop', required: true, type: OPTION.string, choices: ['primary', 'standby', 'readonly'].map((n) => ({ name: n, value: n })) },
    ]);
    expect(subs.history.options).toEqual([{ name: 'n', description: 'how many entries', required: false, type: OPTION.integer }]);
    expect(subs.status.options).toEqual([]);

    // A second start with the same definitions: Discord is asked, nothing is sent.
    const same = new DiscordAdapter(c.app);
    await same.start();
    await same.stop();
    expect(same.registration).toEqual({ changed: false, scope: 'guild' });
    expect(puts()).toHaveLength(1);

    // A new subcommand: registered again, once.
    const ping = defineCommand({ name: 'ping', summary: 'Answer pong', level: 'viewer', mutates: false, args: {}, run: async (): Promise<Reply> => ({ title: 'pong', severity: 'ok' }) });
    const changed = new DiscordAdapter({ ...c.app, services: { ...c.app.services, commands: [...c.app.services.commands, ping] } });
    await changed.start();
    await changed.stop();
    expect(changed.registration).toEqual({ changed: true, scope: 'guild' });
    expect(puts()).toHaveLength(2);
    expect((puts()[1].body as any[])[0].options.map((o: { name: string }) => o.name)).toContain('ping');

    // Back to this build's commands (what the running adapter registers on its next start).
    expect(await adapter.register()).toEqual({ changed: true, scope: 'guild' });
    expect(await adapter.register()).toEqual({ changed: false, scope: 'guild' });
    expect(puts()).toHaveLength(3);
  });

  it('answers /cluster status with a deferred reply, then edits in an embed listing the three nodes', async () => {
    const i = standin.slash('status', [], viewer, ops, guild);
    const msg = await answered(i, /Cluster status — primary primary, 2\/2 replicas streaming/);
    expect(standin.callbacks.get(i.id)?.[0]).toEqual({ type: 5, data: { flags: 0 } });
    const embed = msg.embeds[0];
    for (const node of ['primary', 'standby', 'readonly']) expect(embed.description).toMatch(new RegExp(`^${node}\\b`, 'm'));
    expect(embed.description).toContain('```');
    expect(embed.color).toBe(0x2ecc71);
    expect(msg.flags ?? 0).toBe(0);
  });

  it('stop primary: card with a red Confirm button; a non-admin click is refused privately and changes nothing; an admin click stops it once', async () => {
    const i = standin.slash('stop', [{ name: 'node', type: OPTION.string, value: 'primary' }], operator, ops, guild);
    const card = await answered(i, /Confirm: stop the primary primary/);
    const [confirm, cancel] = card.components[0].components as Array<{ custom_id: string; style: number; disabled: boolean; label: string }>;
    expect(confirm).toMatchObject({ style: BUTTON.danger, disabled: false, label: 'Stop primary primary' });
    expect(cancel).toMatchObject({ style: BUTTON.secondary, label: 'Cancel' });

    // The operator who asked may not confirm: an ephemeral refusal, the card untouched.
    const refused = standin.click(card.id, confirm.custom_id, operator, guild);
    const [privately] = await standin.until(() => standin.ephemeral(refused).length > 0 && standin.ephemeral(refused), 'an ephemeral refusal');
    expect(privately.embeds[0].description).toMatch(/oscar is an? operator; only an admin can confirm: stop the primary primary/);
    expect(card.components[0].components.every((b: { disabled: boolean }) => !b.disabled)).toBe(true);
    expect(await c.app.services.runtime.isRunning(c.app.services.node('primary'))).toBe(true);
    expect(c.app.services.audit.tail(5).some((e) => e.kind === 'refusal' && e.user === `discord:${operator.userId}` && e.outcome === 'forbidden')).toBe(true);

    // An admin (by Discord role) confirms: the card becomes the result, its buttons disabled.
    const ok = standin.click(card.id, confirm.custom_id, admin, guild);
    await standin.until(() => card.embeds[0]?.title?.includes('stop primary: done'), 'the card updated with the result');
    expect(standin.ephemeral(ok)).toHaveLength(0);
    expect(card.components[0].components.every((b: { disabled: boolean }) => b.disabled)).toBe(true);
    expect(card.embeds[0].footer.text).toMatch(/Confirmed by dana/);
    expect(await c.app.services.runtime.isRunning(c.app.services.node('primary'))).toBe(false);
    const stops = c.app.services.audit.tail(50).filter((e) => e.kind === 'action' && e.command === 'stop' && e.outcome === 'confirmed');
    expect(stops).toHaveLength(1);
    expect(stops[0].user).toBe(`discord:${admin.userId}`);

    // A second click on the (stale) button: refused privately, nothing runs twice.
    const again = standin.click(card.id, confirm.custom_id, admin, guild);
    const [late] = await standin.until(() => standin.ephemeral(again).length > 0 && standin.ephemeral(again), 'a refusal of the replayed click');
    expect(late.embeds[0].description).toMatch(/already confirmed by dana/);

    const restart = await c.run('/cluster start primary');
    expect(restart.failed).toBeFalsy();
  });

  it('a click on an expired confirmation disables the card\'s buttons for everyone, says why on it and privately, and runs nothing', async () => {
    const i = standin.slash('stop', [{ name: 'node', type: OPTION.string, value: 'primary' }], admin, ops, guild);
    const card = await answered(i, /Confirm: stop the primary primary/);
    const [confirm] = card.components[0].components as Array<{ custom_id: string }>;
    // Time passes: the confirmation's TTL (PENDING_ACTION_TTL_SECONDS) runs out.
    c.app.services.pending.get(confirm.custom_id.slice('cb:confirm:'.length))!.expiresAt = Date.now() - 1000;
    const late = standin.click(card.id, confirm.custom_id, admin, guild);
    const [privately] = await standin.until(() => standin.ephemeral(late).length > 0 && standin.ephemeral(late), 'a private refusal');
    expect(privately.embeds[0].description).toMatch(/this confirmation expired at .* — run \/cluster stop again/);
    expect(standin.callbacks.get(late.id)?.[0].type).toBe(7);
    expect(card.components[0].components.every((b: { disabled: boolean }) => b.disabled)).toBe(true);
    expect(card.embeds[0].title).toMatch(/Confirm: stop the primary primary/);
    expect(card.embeds[0].footer.text).toMatch(/^⌛ this confirmation expired at/);
    expect(await c.app.services.runtime.isRunning(c.app.services.node('primary'))).toBe(true);

    // The id of a live confirmation, clicked from another (allowed) channel: refused, the card stays live.
    const live = standin.slash('stop', [{ name: 'node', type: OPTION.string, value: 'primary' }], admin, ops, guild);
    const liveCard = await answered(live, /Confirm: stop the primary primary/);
    const [liveConfirm, liveCancel] = liveCard.components[0].components as Array<{ custom_id: string }>;
    const moved = standin.click(liveCard.id, liveConfirm.custom_id, admin, guild, alerts);
    const [notHere] = await standin.until(() => standin.ephemeral(moved).length > 0 && standin.ephemeral(moved), 'a refusal from the other channel');
    expect(notHere.embeds[0].description).toMatch(/^this confirmation belongs to another channel/);
    expect(liveCard.components[0].components.every((b: { disabled: boolean }) => !b.disabled)).toBe(true);
    expect(c.app.services.audit.tail(5).some((e) => e.kind === 'refusal' && e.outcome === 'foreign channel' && e.channel === alerts)).toBe(true);
    const cancelled = standin.click(liveCard.id, liveCancel.custom_id, admin, guild);
    await standin.until(() => liveCard.embeds[0]?.title?.includes('Cancelled'), 'the card cancelled in its own channel');
    expect(standin.ephemeral(cancelled)).toHaveLength(0);
    expect(await c.app.services.runtime.isRunning(c.app.services.node('primary'))).toBe(true);

    // A confirmation id the bot does not know (another bot, or from before a restart): the same.
    const foreign = standin.slash('stop', [{ name: 'node', type: OPTION.string, value: 'primary' }], admin, ops, guild);
    const other = await answered(foreign, /Confirm: stop the primary primary/);
    const forged = standin.click(other.id, 'cb:confirm:0123456789abcdef01234567', admin, guild);
    const [unknown] = await standin.until(() => standin.ephemeral(forged).length > 0 && standin.ephemeral(forged), 'a refusal of the unknown id');
    expect(unknown.embeds[0].description).toMatch(/unknown or already-used confirmation/);
    expect(other.components[0].components.every((b: { disabled: boolean }) => b.disabled)).toBe(true);
    expect(await c.app.services.runtime.isRunning(c.app.services.node('primary'))).toBe(true);
  });

  it('refuses commands from a channel that is not allowed, privately, and audits it', async () => {
    const i = standin.slash('status', [], admin, elsewhere, guild);
    const [refusal] = await standin.until(() => standin.ephemeral(i).length > 0 && standin.ephemeral(i), 'an ephemeral refusal');
    expect(refusal.embeds[0].description).toContain(`<#${ops}>`);
    expect(standin.original(i.token)?.embeds.some((e) => /Cluster status/.test(e.title ?? ''))).toBeFalsy();
    expect(c.app.services.audit.tail(3).some((e) => e.kind === 'refusal' && e.outcome === 'channel not allowed' && e.channel === elsewhere)).toBe(true);
  });

  it('sends bad input back privately as one line', async () => {
    const i = standin.slash('history', [{ name: 'n', type: OPTION.integer, value: 5000 }], viewer, ops, guild);
    const [err] = await standin.until(() => standin.ephemeral(i).length > 0 && standin.ephemeral(i), 'an ephemeral error');
    expect(err.embeds[0].description).toMatch(/^n "5000" must be at most 200/);
    expect(standin.original(i.token)).toBeUndefined();
  });

  it('delivers an alert to the alert channel, with its chart as an attachment', async () => {
    const png = `${c.home}/lag.png`;
    writeFileSync(png, Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
    await c.app.notifier.post('alerts', { title: 'Replica lag high on standby', severity: 'warn', text: 'lag 20 MiB', image: { path: png, filename: 'lag.png', alt: 'lag chart' } });
    await adapter.outbox.idle();
    const posted = channelMessages(alerts).filter((m) => m.embeds[0]?.title?.includes('Replica lag high on standby'));
    expect(posted).toHaveLength(1);
    expect(posted[0].embeds[0]).toMatchObject({ color: 0xf39c12, image: { url: 'attachment://lag.png' } });
    const upload = standin.requests.find((r) => r.method === 'POST' && r.path === `/channels/${alerts}/messages` && r.raw.includes('filename="lag.png"'));
    expect(upload).toBeDefined();
  });

  it('runs a command button on an alert as the person who clicks, in a new message', async () => {
    await c.app.notifier.post('alerts', { title: 'Primary looks slow', severity: 'warn', buttons: [{ actionId: 'cb:cmd:/cluster status', label: 'Status', style: 'primary' }] });
    await adapter.outbox.idle();
    const alert = channelMessages(alerts).find((m) => m.embeds[0]?.title?.includes('Primary looks slow'))!;
    expect(alert.components[0].components[0]).toMatchObject({ custom_id: 'cb:cmd:/cluster status', style: 1 });
    // The bot's own alert channel takes clicks even though DISCORD_ALLOWED_CHANNELS names only #ops.
    const i = standin.click(alert.id, 'cb:cmd:/cluster status', viewer, guild);
    const status = await answered(i, /Cluster status/);
    expect(status.id).not.toBe(alert.id);
    expect(standin.callbacks.get(i.id)?.[0].type).toBe(5);
    expect(alert.edits).toHaveLength(0);
    expect(c.app.services.audit.tail(3).some((e) => e.command === 'status' && e.user === `discord:${viewer.userId}` && e.channel === alerts)).toBe(true);
  });

  it('queues alerts during an outage and delivers each once, in order, afterwards (also after a lost response and a 429)', async () => {
    standin.mode = 'down';
    const [first] = await c.app.notifier.post('alerts', { title: 'Outage alert 1', severity: 'crit' });
    await c.app.notifier.post('alerts', { title: 'Outage alert 2', severity: 'crit' });
    await c.app.notifier.update([first], { title: 'Outage alert 1 (resolved)', severity: 'ok' });
    await standin.until(() => standin.downAttempts >= 3, 'several failed delivery attempts');
    expect(adapter.outbox.pending).toBe(3);
    expect(adapter.outbox.stats.failedAttempts).toBeGreaterThan(0);
    standin.mode = 'up';
    await adapter.outbox.idle();

    standin.loseNextCreateResponse = true;
    await c.app.notifier.post('alerts', { title: 'Outage alert 3 (response lost)', severity: 'warn' });
    await adapter.outbox.idle();
    standin.rateLimitNext = 1;
    await c.app.notifier.post('alerts', { title: 'Outage alert 4 (rate limited)', severity: 'warn' });
    await adapter.outbox.idle();
    expect(standin.rateLimited).toBe(1);

    const titles = channelMessages(alerts).map((m: StoredMessage) => m.embeds[0]?.title ?? '').filter((t) => t.includes('Outage alert'));
    expect(titles).toEqual(['✅ Outage alert 1 (resolved)', '🚨 Outage alert 2', '⚠️ Outage alert 3 (response lost)', '⚠️ Outage alert 4 (rate limited)']);
  });

  it('survives the gateway closing mid-session: resumes (or identifies anew), answers the next interaction, posts nothing twice', async () => {
    const before = { ...standin.gateway };
    standin.dropGateway(4000);
    await c.app.notifier.post('alerts', { title: 'Posted while the gateway was away', severity: 'info' });
    await standin.until(() => standin.gateway.resumes + standin.gateway.identifies > before.resumes + before.identifies && standin.connected, 'the client to reconnect');
    const i = standin.slash('status', [], viewer, ops, guild);
    await answered(i, /Cluster status/);
    await adapter.outbox.idle();
    expect(channelMessages(alerts).filter((m) => m.embeds[0]?.title?.includes('Posted while the gateway was away'))).toHaveLength(1);
    expect(standin.gateway.connections).toBe(before.connections + 1);
    expect(standin.gateway.resumes).toBe(before.resumes + 1);

    // Again, but the session is gone on Discord's side: the client identifies anew.
    standin.forgetSessions();
    standin.dropGateway(4000);
    await standin.until(() => standin.gateway.identifies > before.identifies && standin.connected, 'a fresh IDENTIFY');
    const j = standin.slash('status', [], viewer, ops, guild);
    await answered(j, /Cluster status/);
  });
});
