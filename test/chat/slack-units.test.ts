// The Slack adapter's pure parts: Block Kit limits, the request pre-check, retry decisions, the outbox.
import { describe, expect, it } from 'vitest';
import { renderBlocks, renderMessage } from '../../src/chat/slack/blocks.js';
import { retryDelay } from '../../src/chat/slack/outbox.js';
import { precheck } from '../../src/chat/slack/security.js';
import { ReplySession } from '../../src/chat/slack/reply-session.js';

const opts = { baseDelayMs: 10, maxDelayMs: 40 };

describe('Block Kit renderer', () => {
  it('keeps a huge table within Slack limits and never drops the buttons or the context line', () => {
    const rows = Array.from({ length: 400 }, (_, i) => [`node${i}`, 'replica', 'streaming', 'x'.repeat(60)]);
    const blocks = renderBlocks({
      title: 'Big',
      severity: 'warn',
      tables: [{ columns: ['node', 'role', 'state', 'note'], rows }],
      context: 'footer',
      buttons: [{ actionId: 'cb:confirm:1', label: 'Go', style: 'danger', confirmText: 'Sure?' }],
    });
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(blocks.at(-1)).toMatchObject({ type: 'actions' });
    expect(blocks.at(-2)).toMatchObject({ type: 'context' });
    for (const b of blocks) if (b.text) expect((b.text as { text: string }).text.length).toBeLessThanOrEqual(3000);
  });

  it('escapes Slack markup so a value cannot ping @channel or forge a link', () => {
    const m = renderMessage({ title: 'T <!channel>', severity: 'crit', text: '<https://evil|click> & more' });
    const json = JSON.stringify(m);
    expect(json).not.toContain('<!channel>');
    expect(json).toContain('&lt;https://evil|click&gt; &amp; more');
    expect(m.attachments[0].color).toBe('#E01E5A');
  });
});

describe('request pre-check', () => {
  const now = 1_800_000_000;
  const h = (ts: number | undefined, len = 100) => ({ 'x-slack-request-timestamp': ts === undefined ? undefined : String(ts), 'x-slack-signature': 'v0=abc', 'content-length': String(len) });
  it('accepts timestamps within 5 minutes either way and refuses beyond', () => {
    expect(precheck(h(now - 300), 1000, now)).toBeNull();
    expect(precheck(h(now + 300), 1000, now)).toBeNull();
    expect(precheck(h(now - 301), 1000, now)).toMatchObject({ status: 401 });
    expect(precheck(h(now + 301), 1000, now)).toMatchObject({ status: 401 });
    expect(precheck(h(undefined), 1000, now)).toMatchObject({ status: 401, reason: 'no request timestamp' });
  });
  it('refuses a declared body over the limit with 413', () => {
    expect(precheck(h(now, 1001), 1000, now)).toMatchObject({ status: 413 });
  });
});

describe('outbox retry decisions', () => {
  it('retries 5xx, network errors and rate limits (honouring Retry-After); not 4xx or bad channels', () => {
    expect(retryDelay({ code: 'slack_webapi_http_error', statusCode: 503 }, 0, opts)).toBe(10);
    expect(retryDelay({ code: 'slack_webapi_http_error', statusCode: 500 }, 5, opts)).toBe(40);
    expect(retryDelay({ code: 'slack_webapi_rate_limited_error', retryAfter: 3 }, 0, opts)).toBe(3000);
    expect(retryDelay({ code: 'slack_webapi_request_error' }, 1, opts)).toBe(20);
    expect(retryDelay({ code: 'slack_webapi_http_error', statusCode: 404 }, 0, opts)).toBeNull();
    expect(retryDelay({ code: 'slack_webapi_platform_error', data: { error: 'channel_not_found' } }, 0, opts)).toBeNull();
    expect(retryDelay(new Error('boom'), 0, opts)).toBeNull();
  });
});

describe('slash-command reply session', () => {
  it('acks once, then edits via the response_url within Slack\'s 5 uses, always keeping the last for the result', async () => {
    const acks: string[] = [];
    const responds: Array<{ text: string; replace_original?: boolean }> = [];
    const session = new ReplySession(
      async (m) => {
        acks.push(m.text);
      },
      async (m) => {
        responds.push(m);
      },
    );
    await session.working({ title: 'Working', severity: 'info' });
    await session.working({ title: 'Working again', severity: 'info' });
    for (let i = 1; i <= 8; i++) await session.progress({ title: `step ${i}`, severity: 'info' });
    await session.finish({ title: 'Done', severity: 'ok' });
    await session.whenAcked;
    expect(acks).toEqual(['ℹ️ Working']);
    expect(responds.map((r) => r.text)).toEqual(['ℹ️ step 1', 'ℹ️ step 2', 'ℹ️ step 3', 'ℹ️ step 4', '✅ Done']);
    expect(responds.every((r) => r.replace_original === true)).toBe(true);
  });
});
