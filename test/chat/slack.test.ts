// The real Bolt App in HTTP mode on the bot's shared HTTP port, a local stand-in of Slack's Web
// API, and a real 3-node cluster behind the router. Signed requests exactly as Slack sends them.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatAdapters } from '../../src/chat/adapters.js';
import { SlackAdapter } from '../../src/chat/slack/adapter.js';
import { blocksOf, type SlackBlock } from '../../src/chat/slack/blocks.js';
import { SlackPeople } from '../../src/chat/slack/people.js';
import { levelOf } from '../../src/core/permissions.js';
import { WebClient } from '@slack/web-api';
import type { AuditEntry } from '../../src/core/audit.js';
import { errorLine } from '../../src/errors.js';
import { waitFor } from '../../src/cluster/wait.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { blockActionPayload, signedHeaders, SlackStandin, slashCommandBody} from '../helpers/slack-standin.js';

const SECRET = randomBytes(16).toString('hex');
const BOT_TOKEN = `xoxb-${randomBytes(12).toString('hex')}`;
const ADMIN = 'UADMIN';
const VIEWER = 'UVIEW';
const OPERATOR = 'UOPS';

interface SlackBody {
  response_type?: string;
  text?: string;
  attachments?: Array<{ color: string; blocks: SlackBlock[] }>;
  replace_original?: boolean;
}

const textOf = (blocks: SlackBlock[]) => JSON.stringify(blocks);
const buttonsOf = (blocks: SlackBlock[]) => blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements as Array<Record<string, unknown>>);

describe('Slack over HTTP (real Bolt, local stand-in, real cluster)', () => {
  let s: SlackStandin;
  let c: TestCluster;
  let base: string;
  let slack: SlackAdapter;
  let requests = 0;

  const send = async (body: string, headers: Record<string, string>) => {
    const res = await fetch(`${base}/slack/events`, { method: 'POST', headers, body });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as SlackBody };
  };
  const slash = (text: string, user: string, channel = 'C0OPS') => {
    const id = `cmd-${++requests}`;
    const body = new URLSearchParams(slashCommandBody(text, user, s, channel, id)).toString();
    return send(body, signedHeaders(body, SECRET)).then((r) => ({ ...r, responseId: id }));
  };
  const click = (actionId: string, user: string, card: { channel: string; ts: string }, shown?: SlackBody) => {
    const id = `click-${++requests}`;
    const body = `payload=${encodeURIComponent(JSON.stringify(blockActionPayload(actionId, user, s, card, id, shown as Record<string, unknown> | undefined)))}`;
    return send(body, signedHeaders(body, SECRET)).then((r) => ({ ...r, responseId: id }));
  };
  const audit = (): AuditEntry[] =>
    readFileSync(c.app.services.audit.file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditEntry);

  beforeAll(async () => {
    s = new SlackStandin();
    await s.start();
    c = await startTestCluster({
      env: {
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_API_URL: s.apiUrl,
        SLACK_ALERT_CHANNEL: 'C0ALERTS',
        SLACK_REPORT_CHANNEL: 'C0REPORTS',
        SLACK_ALLOWED_CHANNELS: 'C0OPS,C0ALERTS',
        ADMINS: `alice,bob,slack:${ADMIN}`,
        OPERATORS: `olga,slack:${OPERATOR}`,
        VIEWERS: `victor,slack:${VIEWER}`,
      },
    });
    const started = await startChatAdapters(c.app, c.config);
    expect(started.adapters.map((a) => a.name)).toEqual(['slack']);
    slack = started.adapters[0] as SlackAdapter;
    expect(c.app.http.hasRoutes).toBe(true);
    base = `http://127.0.0.1:${await c.app.http.listen(c.config.HTTP_PORT, '127.0.0.1')}`;
  });
  afterAll(async () => {
    await c?.destroy();
    await s?.stop();
  });

  it('checks the bot token with auth.test at start', () => {
    expect(s.calls.filter((x) => x.method === 'auth.test').length).toBeGreaterThanOrEqual(1);
  });

  it('answers a signed /cluster status with a Block Kit card listing the three nodes', async () => {
    const started = performance.now();
    const r = await slash('status', VIEWER);
    console.log(`[timing] signed /cluster status answered in the ack after ${Math.round(performance.now() - started)} ms`);
    expect(r.status).toBe(200);
    expect(r.body.response_type).toBe('in_channel');
    const blocks = blocksOf(r.body);
    expect(r.body.attachments?.[0].color).toMatch(/^#[0-9A-F]{6}$/);
    expect(blocks[0]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
    expect(String((blocks[0].text as { text: string }).text)).toMatch(/^✅ \*Cluster status — primary primary, 2\/2 replicas streaming\*/);
    const rows = blocks.filter((b) => b.type === 'section').map((b) => String((b.text as { text?: string } | undefined)?.text ?? '')).join('\n');
    expect(rows).toMatch(/\*primary\* — role `primary` · state `read\/write`/);
    expect(rows).toMatch(/\*standby\* — role `replica` · state `streaming`.*upstream `primary`/);
    expect(rows).toMatch(/\*readonly \(no failover\)\* — role `replica` · state `streaming`/);
    expect(blocks.some((b) => b.type === 'context')).toBe(true);
    expect(textOf(blocks)).not.toContain(c.env.POSTGRES_ADMIN_PASSWORD);
  });

  it('acks a slow command at once and answers through the response_url', async () => {
    const r = await slash('up', OPERATOR);
    expect(r.status).toBe(200);
    expect(String((blocksOf(r.body)[0].text as { text: string }).text)).toMatch(/Working on \/cluster up/);
    const [answer] = await s.waitFor((x) => x.method === 'respond' && x.path === r.responseId);
    expect(answer.body).toMatchObject({ replace_original: true });
    expect(textOf(blocksOf(answer.body as SlackBody))).toMatch(/up|running/i);
  });

  it('confirms stopping the primary: card with buttons, non-admin refused ephemerally, admin confirms once, card edited in place', async () => {
    const r = await slash('stop primary', ADMIN);
    const blocks = blocksOf(r.body);
    const [confirm, cancel] = buttonsOf(blocks);
    expect(confirm).toMatchObject({ style: 'danger', text: { text: 'Stop primary primary' }, confirm: { title: { text: 'Are you sure?' } } });
    expect(String(confirm.action_id)).toMatch(/^cb:confirm:/);
    expect(String(cancel.action_id)).toMatch(/^cb:cancel:/);
    const card = { channel: 'C0OPS', ts: '1700000000.999001' };

    const refused = await click(String(confirm.action_id), VIEWER, card);
    expect(refused.status).toBe(200);
    const [ephemeral] = await s.waitFor((x) => x.method === 'respond' && x.path === refused.responseId);
    expect(ephemeral.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(textOf(blocksOf(ephemeral.body as SlackBody))).toMatch(/uview \(UVIEW\) is a viewer; only an admin can confirm/);
    expect(s.calls.filter((x) => x.method === 'chat.update' && x.body.ts === card.ts)).toHaveLength(0);
    expect(await c.app.services.runtime.isRunning(c.app.services.node('primary'))).toBe(true);
    expect(audit().some((e) => e.kind === 'refusal' && e.user === `slack:${VIEWER}` && e.outcome === 'forbidden')).toBe(true);

    const ok = await click(String(confirm.action_id), ADMIN, card);
    expect(ok.status).toBe(200);
    const updates = await s.waitFor((x) => x.method === 'chat.update' && x.body.ts === card.ts && /stop primary: done/.test(JSON.stringify(x.body)));
    const final = updates.at(-1)!.body as SlackBody;
    expect(buttonsOf(blocksOf(final))).toHaveLength(0);
    expect(textOf(blocksOf(final))).toMatch(/Confirmed by uadmin \(UADMIN\)/);
    expect(await c.app.services.runtime.isRunning(c.app.services.node('primary'))).toBe(false);

    // A second click on the (stale) card changes nothing and says who handled it.
    const again = await click(String(confirm.action_id), ADMIN, card);
    const [late] = await s.waitFor((x) => x.method === 'respond' && x.path === again.responseId);
    expect(late.body).toMatchObject({ response_type: 'ephemeral' });
    expect(textOf(blocksOf(late.body as SlackBody))).toMatch(/already confirmed by uadmin/);
    expect(audit().filter((e) => e.kind === 'action' && e.command === 'stop' && e.outcome === 'done')).toHaveLength(1);

    const back = await c.run('/cluster start primary');
    expect(back.failed).toBeFalsy();
  });

  it('a click on an expired confirmation takes the buttons off the card for everyone, answers privately, and runs nothing', async () => {
    const r = await slash('stop primary', ADMIN);
    const [confirm] = buttonsOf(blocksOf(r.body));
    const card = { channel: 'C0OPS', ts: '1700000000.555001' };
    // Time passes: the confirmation's TTL (PENDING_ACTION_TTL_SECONDS) runs out.
    const pending = c.app.services.pending.get(String(confirm.action_id).slice('cb:confirm:'.length))!;
    pending.expiresAt = Date.now() - 1000;
    const late = await click(String(confirm.action_id), ADMIN, card, r.body);
    const [edit] = await s.waitFor((x) => x.method === 'chat.update' && x.body.ts === card.ts);
    const edited = blocksOf(edit.body as SlackBody);
    expect(buttonsOf(edited)).toHaveLength(0);
    expect(textOf(edited)).toMatch(/Confirm: stop the primary primary/);
    expect(textOf(edited)).toMatch(/⌛ this confirmation expired at/);
    const [privately] = await s.waitFor((x) => x.method === 'respond' && x.path === late.responseId);
    expect(privately.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(await c.app.services.runtime.isRunning(c.app.services.node('primary'))).toBe(true);

    // A viewer refused on a live card leaves its buttons for an admin (no edit).
    const live = await slash('stop primary', ADMIN);
    const [liveConfirm] = buttonsOf(blocksOf(live.body));
    const liveCard = { channel: 'C0OPS', ts: '1700000000.555002' };
    const refused = await click(String(liveConfirm.action_id), VIEWER, liveCard, live.body);
    await s.waitFor((x) => x.method === 'respond' && x.path === refused.responseId);
    expect(s.calls.filter((x) => x.method === 'chat.update' && x.body.ts === liveCard.ts)).toHaveLength(0);
    // And a replay of a confirmation that was already cancelled is dead too: buttons off.
    const [, liveCancel] = buttonsOf(blocksOf(live.body));
    await click(String(liveCancel.action_id), ADMIN, liveCard, live.body);
    await s.waitFor((x) => x.method === 'chat.update' && x.body.ts === liveCard.ts && /Cancelled/.test(JSON.stringify(x.body)));
    const replay = await click(String(liveConfirm.action_id), ADMIN, liveCard, live.body);
    await s.waitFor((x) => x.method === 'respond' && x.path === replay.responseId);
    const updates = s.calls.filter((x) => x.method === 'chat.update' && x.body.ts === liveCard.ts);
    expect(updates.at(-1)!.body.text).toBeDefined();
    expect(textOf(blocksOf(updates.at(-1)!.body as SlackBody))).toMatch(/⌛ .*already cancelled by uadmin/);
    expect(updates.every((u) => buttonsOf(blocksOf(u.body as SlackBody)).length === 0)).toBe(true);
    expect(await c.app.services.runtime.isRunning(c.app.services.node('primary'))).toBe(true);
  });

  it('refuses a confirmation clicked from another channel than the one it was asked in; the card stays live there', async () => {
    const r = await slash('stop primary', ADMIN);
    const [confirm, cancel] = buttonsOf(blocksOf(r.body));
    const card = { channel: 'C0OPS', ts: '1700000000.444001' };
    const moved = await click(String(confirm.action_id), ADMIN, { channel: 'C0ALERTS', ts: card.ts }, r.body);
    const [notHere] = await s.waitFor((x) => x.method === 'respond' && x.path === moved.responseId);
    expect(notHere.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(textOf(blocksOf(notHere.body as SlackBody))).toMatch(/this confirmation belongs to another channel/);
    expect(s.calls.filter((x) => x.method === 'chat.update' && x.body.ts === card.ts)).toHaveLength(0);
    expect(audit().some((e) => e.kind === 'refusal' && e.outcome === 'foreign channel' && e.channel === 'C0ALERTS')).toBe(true);
    expect(await c.app.services.runtime.isRunning(c.app.services.node('primary'))).toBe(true);
    await click(String(cancel.action_id), ADMIN, card, r.body);
    await s.waitFor((x) => x.method === 'chat.update' && x.body.ts === card.ts && /Cancelled/.test(JSON.stringify(x.body)));
  });

  it('refuses /cluster in a channel outside SLACK_ALLOWED_CHANNELS, ephemerally, and audits it', async () => {
    const r = await slash('status', ADMIN, 'C0RANDOM');
    expect(r.body.response_type).toBe('ephemeral');
    expect(textOf(blocksOf(r.body))).toMatch(/does not take commands in this channel/);
    expect(audit().some((e) => e.kind === 'refusal' && e.channel === 'C0RANDOM' && e.outcome === 'channel not allowed')).toBe(true);
  });

  it('rejects a bad signature, a 6-minute-old and a 10-minute-future timestamp with 401, runs nothing, audits each', async () => {
    const before = audit().length;
    const callsBefore = s.calls.length;
    const body = new URLSearchParams(slashCommandBody('stop standby', ADMIN, s)).toString();
    const now = Math.floor(Date.now() / 1000);
    const bad = signedHeaders(body, 'not-the-secret');
    const old = signedHeaders(body, SECRET, now - 6 * 60);
    const future = signedHeaders(body, SECRET, now + 10 * 60);
    for (const headers of [bad, old, future]) expect((await send(body, headers)).status).toBe(401);
    const big = `${body}&pad=${'x'.repeat(c.config.SLACK_MAX_BODY_BYTES)}`;
    expect((await send(big, signedHeaders(big, SECRET))).status).toBe(413);

    const added = audit().slice(before);
    expect(added.map((e) => [e.kind, e.outcome])).toEqual([
      ['refusal', 'request not authentic'],
      ['refusal', 'request not authentic'],
      ['refusal', 'request not authentic'],
      ['refusal', 'request too large'],
    ]);
    expect(added.map((e) => (e.detail as { reason: string }).reason)).toEqual([
      'signature does not match',
      expect.stringMatching(/^timestamp 36\d s old/),
      expect.stringMatching(/^timestamp (599|600|601) s in the future/),
      expect.stringMatching(/over the 262144-byte limit/),
    ]);
    expect(s.calls.length).toBe(callsBefore);
    expect(await c.app.services.runtime.isRunning(c.app.services.node('standby'))).toBe(true);
  });

  it('delivers an alert exactly once, in order with later alerts, through three 500s and a 429, while commands keep working', async () => {
    s.failNext('chat.postMessage', { status: 500 }, { status: 500 }, { status: 500 });
    const outage = performance.now();
    // Queued (on disk) at once: the caller never waits for Slack.
    const a = await c.app.notifier.post('alerts', { title: 'Alert A: standby lag high', severity: 'warn', text: 'lag 20 MB' });
    const b = await c.app.notifier.post('alerts', { title: 'Alert B: archiver failing', severity: 'crit' });
    expect(a[0].ref).toMatchObject({ channel: 'C0ALERTS', queued: expect.stringMatching(/^q-/) });
    // The bot keeps answering while Slack's API is down for its own posts.
    const status = await slash('status', VIEWER);
    expect(textOf(blocksOf(status.body))).toMatch(/\*standby\*/);
    await slack.outbox.idle();
    console.log(`[timing] alerts A and B delivered ${Math.round(performance.now() - outage)} ms after three 500s (backoff 1 s, 2 s, 4 s)`);
    const posts = s.calls.filter((x) => x.method === 'chat.postMessage' && x.body.channel === 'C0ALERTS');
    expect(posts.map((x) => [String(x.body.text).slice(0, 10), x.status])).toEqual([
      ['⚠️ Alert A', 500],
      ['⚠️ Alert A', 500],
      ['⚠️ Alert A', 500],
      ['⚠️ Alert A', 200],
      ['🚨 Alert B', 200],
    ]);
    // Before each retry the bot looked for an earlier attempt (a 500 may still have posted).
    expect(s.calls.filter((x) => x.method === 'conversations.history').length).toBeGreaterThanOrEqual(3);
    const [tsA, tsB] = [String(posts[3].answer?.ts), String(posts[4].answer?.ts)];

    // Threaded reminder under the original alert (its queued ref), after a rate limit with Retry-After.
    s.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    await c.app.notifier.post('alerts', { title: 'Still firing: Alert A', severity: 'warn' }, a);
    await slack.outbox.idle();
    const reminder = s.calls.filter((x) => x.method === 'chat.postMessage' && String(x.body.text).includes('Still firing'));
    expect(reminder.map((x) => x.status)).toEqual([429, 200]);
    expect(reminder[1].body.thread_ts).toBe(tsA);

    // Resolution edits the alert in place, through the queued ref.
    await c.app.notifier.update(b, { title: 'Resolved: Alert B', severity: 'ok' });
    await slack.outbox.idle();
    const edit = s.calls.filter((x) => x.method === 'chat.update').at(-1)!;
    expect(edit.body).toMatchObject({ channel: 'C0ALERTS', ts: tsB });
    expect(String(edit.body.text)).toMatch(/Resolved: Alert B/);
  });

  it('a post whose response was lost is not posted twice: the retry finds it by its metadata', async () => {
    s.loseNextPostResponse = true;
    const before = s.postsIn('C0ALERTS').length;
    await c.app.notifier.post('alerts', { title: 'Alert C: response lost', severity: 'warn' });
    await slack.outbox.idle();
    const mine = s.postsIn('C0ALERTS').slice(before);
    expect(mine.map((m) => m.text.slice(0, 30))).toEqual(['⚠️ Alert C: response lost']);
    expect(mine[0].metadata).toMatchObject({ event_type: 'clusterbot_outbox', event_payload: { outbox_id: expect.stringMatching(/^q-/) } });
    expect(s.calls.filter((x) => x.method === 'chat.postMessage' && String(x.body.text).includes('Alert C'))).toHaveLength(1);
  });

  it('an alert button runs its command as the clicker: refused for a viewer, a new confirmation card for an admin', async () => {
    await c.app.notifier.post('alerts', {
      title: 'Primary restart needed',
      severity: 'crit',
      buttons: [{ actionId: 'cb:cmd:/cluster stop primary', label: 'Stop primary…', style: 'danger' }],
    });
    await slack.outbox.idle();
    const card = { channel: 'C0ALERTS', ts: s.postsIn('C0ALERTS').at(-1)!.ts };
    const viewer = await click('cb:cmd:/cluster stop primary', VIEWER, card);
    const [refusal] = await s.waitFor((x) => x.method === 'respond' && x.path === viewer.responseId);
    expect(refusal.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(textOf(blocksOf(refusal.body as SlackBody))).toMatch(/is a viewer; \/cluster stop needs operator/);

    const from = s.calls.length;
    await click('cb:cmd:/cluster stop primary', ADMIN, card);
    const [posted] = await s.waitFor((x) => x.method === 'chat.postMessage' && s.calls.indexOf(x) >= from);
    expect(posted.body.channel).toBe('C0ALERTS');
    const buttons = buttonsOf(blocksOf(posted.body as SlackBody));
    expect(buttons.map((b) => (b.text as { text: string }).text)).toEqual(['Stop primary primary', 'Cancel']);
    const newCard = { channel: 'C0ALERTS', ts: String(posted.answer?.ts) };
    expect(newCard.ts).not.toBe(card.ts);

    await click(String(buttons[1].action_id), ADMIN, newCard);
    const [cancelled] = await s.waitFor((x) => x.method === 'chat.update' && x.body.ts === newCard.ts && /Cancelled/.test(String(x.body.text)));
    expect(buttonsOf(blocksOf(cancelled.body as SlackBody))).toHaveLength(0);
    expect(s.calls.filter((x) => x.method === 'chat.update' && x.body.ts === card.ts)).toHaveLength(0);
    expect(await c.app.services.runtime.isRunning(c.app.services.node('primary'))).toBe(true);
  });

  it('uploads a chart with files.uploadV2 into the report channel, after its message', async () => {
    const png = join(c.home, 'lag.png');
    writeFileSync(png, Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex'));
    const from = s.calls.length;
    await c.app.notifier.post('reports', { title: 'Lag, last hour', severity: 'info', image: { path: png, filename: 'lag.png', alt: 'replica lag, last hour' } });
    await slack.outbox.idle();
    const seq = s.calls.slice(from).map((x) => x.method);
    expect(seq).toEqual(['chat.postMessage', 'files.getUploadURLExternal', 'upload', 'files.completeUploadExternal']);
    const complete = s.calls.slice(from).find((x) => x.method === 'files.completeUploadExternal')!;
    expect(complete.body.channel_id).toBe('C0REPORTS');
    expect(s.calls.slice(from).find((x) => x.method === 'files.getUploadURLExternal')!.body.filename).toBe('lag.png');
  });

  it('refuses to start with a token Slack rejects, naming the reason and the key to fix', async () => {
    const revoked = `xoxb-revoked-${randomBytes(8).toString('hex')}`;
    const bad = new SlackAdapter(c.app, { ...c.config, SLACK_BOT_TOKEN: revoked });
    const err: unknown = await bad.start().then(() => null, (e: unknown) => e);
    expect(errorLine(err)).toMatch(/^Slack refused the bot token: invalid_auth — check SLACK_BOT_TOKEN/);
    await bad.stop();
    expect(readFileSync(join(c.home, 'logs', 'clusterbot.log'), 'utf8')).not.toContain(revoked);
  });

  it('maps Slack user groups to levels when SLACK_USER_GROUPS is on', async () => {
    const config = { ...c.config, SLACK_USER_GROUPS: true, OPERATORS: [...c.config.OPERATORS, 'slack-group:S0ONCALL'] };
    const people = new SlackPeople(config, new WebClient(BOT_TOKEN, { slackApiUrl: s.apiUrl, retryConfig: { retries: 0 } }), c.app.services.log);
    const member = await people.principal({ id: 'UGROUPED', username: 'gina' });
    expect(member).toMatchObject({ id: 'slack:UGROUPED', groups: ['slack-group:S0ONCALL'], platform: 'slack' });
    expect(levelOf(config, member)).toBe('operator');
    const outsider = await people.principal({ id: 'UNOBODY', username: 'nobody' });
    expect(levelOf(config, outsider)).toBeNull();
    expect(people.channelAllowed('C0OPS')).toBe(true);
    expect(people.channelAllowed('C0RANDOM')).toBe(false);
  });

  it('keeps the signing secret and tokens out of the log file', () => {
    const logText = readFileSync(join(c.home, 'logs', 'clusterbot.log'), 'utf8');
    expect(logText).toContain('slack');
    expect(logText).not.toContain(SECRET);
    expect(logText).not.toContain(BOT_TOKEN);
  });

  it('Socket Mode: the same /cluster status works through a WebSocket that sends hello and an envelope', async () => {
    const appToken = `xapp-1-${randomBytes(10).toString('hex')}`;
    const socket = new SlackAdapter(c.app, { ...c.config, SLACK_MODE: 'socket', SLACK_APP_TOKEN: appToken }, { outbox: { file: join(c.home, 'chat', 'socket-outbox.jsonl') } });
    expect(socket.mode).toBe('socket');
    await socket.start();
    try {
      await s.socketConnected();
      expect(s.calls.some((x) => x.method === 'apps.connections.open')).toBe(true);
      const ack = (await s.envelope('slash_commands', slashCommandBody('status', VIEWER, s))) as SlackBody;
      expect(ack.response_type).toBe('in_channel');
      const rows = textOf(blocksOf(ack));
      for (const node of ['primary', 'standby', 'readonly']) expect(rows).toContain(`*${node}`);
      const refused = (await s.envelope('slash_commands', slashCommandBody('stop standby', VIEWER, s))) as SlackBody;
      expect(refused.response_type).toBe('ephemeral');
      expect(textOf(blocksOf(refused))).toMatch(/is a viewer; \/cluster stop needs operator/);
    } finally {
      await socket.stop();
    }
    expect(readFileSync(join(c.home, 'logs', 'clusterbot.log'), 'utf8')).not.toContain(appToken);
  });

  // /cluster failover is built on another branch: this test FAILS (never skips) until it is merged.
  it('runs the full failover flow: slash command → card → admin Confirm → one promotion → card edited in place', async () => {
    expect(c.app.router.find('failover'), '/cluster failover is not registered in this build — merge the failover branch, then run this test').toBeDefined();
    // The primary was stopped and started earlier in this file: both replicas stream again first.
    const healthy = await waitFor(() => c.app.services.snapshot(), (x) => x.primary === 'primary' && x.nodes.every((n) => n.name === 'primary' || n.streaming), 30_000, 200);
    expect(healthy.ok, 'replicas did not resume streaming').toBe(true);
    const r = await slash('failover', ADMIN);
    // A slow command acks "Working on…" first; the card then arrives through the response_url.
    const cardBody = buttonsOf(blocksOf(r.body)).length
      ? r.body
      : ((await s.waitFor((x) => x.method === 'respond' && x.path === r.responseId && buttonsOf(blocksOf(x.body as SlackBody)).length > 0))[0].body as SlackBody);
    const [confirm] = buttonsOf(blocksOf(cardBody));
    expect(String(confirm?.action_id)).toMatch(/^cb:confirm:/);
    expect(confirm).toMatchObject({ style: 'danger', confirm: expect.anything() });
    const card = { channel: 'C0OPS', ts: '1700000000.777001' };
    const [ok, dup] = await Promise.all([click(String(confirm.action_id), ADMIN, card), click(String(confirm.action_id), ADMIN, card)]);
    expect([ok.status, dup.status]).toEqual([200, 200]);
    // Progress steps edit the card; the final edit carries who confirmed it, and no confirmation
    // buttons: only the offer of a full backup on the new timeline (BACKUP_AFTER_FAILOVER=offer).
    const edits = await s.waitFor((x) => x.method === 'chat.update' && x.body.ts === card.ts && /Confirmed by uadmin \(UADMIN\)( · |")/.test(JSON.stringify(x.body)), 1, 90_000);
    const left = buttonsOf(blocksOf(edits[0].body as SlackBody));
    expect(left.map((b) => JSON.stringify((b.text as { text?: string })?.text ?? b.text))).toEqual([JSON.stringify('Take a full backup now')]);
    expect(left.some((b) => /^cb:confirm:/.test(String(b.action_id)))).toBe(false);
    expect(s.calls.filter((x) => x.method === 'chat.update' && x.body.ts === card.ts).length).toBeGreaterThanOrEqual(2);
    const late = s.calls.find((x) => x.method === 'respond' && (x.path === ok.responseId || x.path === dup.responseId));
    expect(textOf(blocksOf((late?.body ?? {}) as SlackBody))).toMatch(/already confirmed by uadmin/);
    const snap = await c.app.services.snapshot();
    expect(snap.writable).toEqual(['standby']);
    expect(snap.nodes.find((n) => n.name === 'standby')?.timeline).toBe(2);
    expect(audit().filter((e) => e.kind === 'action' && e.outcome === 'confirmed' && (e.detail as { action?: string }).action === String(confirm.action_id).slice('cb:confirm:'.length))).toHaveLength(1);
  });
});
