// A local stand-in for Slack: the Web API methods the bot calls, response_urls, the file-upload
// URL, and a Socket Mode WebSocket (hello, then envelopes the test sends). Plus request signing.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface StandinCall {
  method: string;
  /** For response_url calls: the id in /respond/<id>. */
  path: string;
  body: Record<string, unknown>;
  /** HTTP status the stand-in answered, and its JSON body. */
  status: number;
  answer?: Record<string, unknown>;
}

type Failure = { status: number; retryAfter?: number };

/** A message the stand-in accepted (chat.postMessage), with its metadata and later edits. */
export interface PostedSlackMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
  body: Record<string, unknown>;
  edits: Array<Record<string, unknown>>;
}

/** Methods that keep answering during an outage: the app must still start. */
const ALWAYS_UP = new Set(['auth.test', 'apps.connections.open']);

const JSON_FIELDS = ['attachments', 'blocks', 'files'];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parse(raw: string, type: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  if (type?.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  if (!type?.includes('x-www-form-urlencoded')) return { raw: raw.length };
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) out[k] = JSON_FIELDS.includes(k) ? JSON.parse(v) : v;
  return out;
}

export class SlackStandin {
  readonly calls: StandinCall[] = [];
  private readonly failures = new Map<string, Failure[]>();
  private readonly waiters: Array<() => void> = [];
  private server!: Server;
  private wss!: WebSocketServer;
  private sockets: WebSocket[] = [];
  private socketAcks = new Map<string, (payload: unknown) => void>();
  private ts = Math.floor(Date.now() / 1000);
  private envelopes = 0;
  port = 0;
  /** Every accepted post, in order (what a person would see in the channels). */
  readonly posted: PostedSlackMessage[] = [];
  /** 'unavailable': every Web API method but auth.test answers 503; 'hang': they never answer. */
  mode: 'up' | 'unavailable' | 'hang' = 'up';
  /** Store the next chat.postMessage, then cut the connection before answering (a lost response). */
  loseNextPostResponse = false;
  private readonly hanging = new Set<import('node:http').ServerResponse>();

  /** Accepted posts in a channel, oldest first. */
  postsIn(channel: string): PostedSlackMessage[] {
    return this.posted.filter((m) => m.channel === channel);
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  responseUrl(id: string): string {
    return `http://127.0.0.1:${this.port}/respond/${id}`;
  }

  /** The next answers of `method` are these HTTP statuses (then 200 again). */
  failNext(method: string, ...failures: Failure[]): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), ...failures]);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req).then((answer) => {
        if (answer === 'hang') {
          this.hanging.add(res);
          res.on('close', () => this.hanging.delete(res));
          return;
        }
        if (answer === 'lose') {
          req.socket.destroy();
          return;
        }
        const { status, body, headers } = answer;
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      });
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown; headers?: Record<string, string> } | 'hang' | 'lose'> {
    const raw = await readBody(req);
    const path = (req.url ?? '').split('?')[0];
    const method = path.startsWith('/api/') ? path.slice(5) : path.startsWith('/respond/') ? 'respond' : path.startsWith('/upload/') ? 'upload' : path;
    const body = parse(raw, req.headers['content-type']);
    if (this.mode !== 'up' && path.startsWith('/api/') && !ALWAYS_UP.has(method)) {
      this.calls.push({ method, path, body, status: this.mode === 'hang' ? 0 : 503 });
      this.notify();
      if (this.mode === 'hang') return 'hang';
      return { status: 503, body: { ok: false, error: 'service_unavailable' } };
    }
    const failure = this.failures.get(method)?.shift();
    const status = failure?.status ?? 200;
    const call: StandinCall = { method, path: method === 'respond' ? path.slice('/respond/'.length) : path, body, status };
    this.calls.push(call);
    const answer: { status: number; body: unknown; headers?: Record<string, string> } = failure
      ? { status, body: { ok: false, error: 'stand-in failure' }, headers: failure.retryAfter ? { 'retry-after': String(failure.retryAfter) } : undefined }
      : /revoked/.test(String(req.headers.authorization ?? body.token ?? ''))
        ? { status: 200, body: { ok: false, error: 'invalid_auth' } }
        : this.answer(method, body);
    call.answer = answer.body as Record<string, unknown>;
    this.notify();
    if (method === 'chat.postMessage' && this.loseNextPostResponse && (answer.body as { ok?: boolean }).ok) {
      this.loseNextPostResponse = false;
      return 'lose';
    }
    return answer;
  }

  private answer(method: string, body: Record<string, unknown>): { status: number; body: unknown } {
    const status = 200;
    const ts = () => `${++this.ts}.000100`;
    switch (method) {
      case 'auth.test':
        return { status, body: { ok: true, url: 'https://standin.example/', team: 'Stand-in', user: 'clusterbot', team_id: 'T0001', user_id: 'UBOT', bot_id: 'BBOT' } };
      case 'chat.postMessage': {
        const metadata = typeof body.metadata === 'string' ? (JSON.parse(body.metadata) as PostedSlackMessage['metadata']) : (body.metadata as PostedSlackMessage['metadata']);
        const m: PostedSlackMessage = { channel: String(body.channel), ts: ts(), text: String(body.text ?? ''), metadata, body, edits: [], ...(body.thread_ts ? { thread_ts: String(body.thread_ts) } : {}) };
        this.posted.push(m);
        return { status, body: { ok: true, channel: body.channel, ts: m.ts, message: { text: body.text } } };
      }
      case 'chat.update': {
        const m = this.posted.find((x) => x.channel === body.channel && x.ts === body.ts);
        m?.edits.push(body);
        return { status, body: { ok: true, channel: body.channel, ts: body.ts } };
      }
      case 'conversations.history':
      case 'conversations.replies': {
        const withMeta = body.include_all_metadata === true || body.include_all_metadata === 'true';
        const oldest = Number(body.oldest ?? 0);
        const inScope = (m: PostedSlackMessage) =>
          m.channel === body.channel && Number(m.ts) > oldest && (method === 'conversations.history' ? !m.thread_ts : m.thread_ts === body.ts || m.ts === body.ts);
        const messages = this.posted.filter(inScope).reverse().map((m) => ({ type: 'message', ts: m.ts, text: m.text, ...(withMeta && m.metadata ? { metadata: m.metadata } : {}) }));
        return { status, body: { ok: true, messages, has_more: false } };
      }
      case 'chat.postEphemeral':
        return { status, body: { ok: true, message_ts: ts() } };
      case 'files.getUploadURLExternal':
        return { status, body: { ok: true, upload_url: `http://127.0.0.1:${this.port}/upload/F${this.ts}`, file_id: `F${this.ts}` } };
      case 'upload':
        return { status, body: { ok: true } };
      case 'files.completeUploadExternal':
        return { status, body: { ok: true, files: (body.files as Array<{ id: string }>).map((f) => ({ id: f.id, name: 'chart' })) } };
      case 'usergroups.list':
        return { status, body: { ok: true, usergroups: [{ id: 'S0ONCALL', handle: 'oncall', users: ['UGROUPED'] }] } };
      case 'apps.connections.open':
        return { status, body: { ok: true, url: `ws://127.0.0.1:${this.port}/socket` } };
      case 'respond':
        return { status, body: { ok: true } };
      default:
        return { status: 200, body: { ok: false, error: 'unknown_method' } };
    }
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Wait until calls matching `pred` number at least `count`; returns them. */
  async waitFor(pred: (c: StandinCall) => boolean, count = 1, timeoutMs = 30_000): Promise<StandinCall[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.calls.filter(pred);
      if (found.length >= count) return found;
      if (Date.now() > deadline) throw new Error(`stand-in: waited ${timeoutMs} ms for ${count} matching call(s), saw ${found.length}; calls: ${this.calls.map((c) => c.method).join(', ')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  private onSocket(ws: WebSocket): void {
    this.sockets.push(ws);
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
      if (msg.envelope_id) this.socketAcks.get(msg.envelope_id)?.(msg.payload);
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'standin', approximate_connection_time: 3600 }, connection_info: { app_id: 'A0001' } }));
  }

  /** Wait for a Socket Mode client to connect. */
  async socketConnected(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.sockets.some((s) => s.readyState === s.OPEN)) {
      if (Date.now() > deadline) throw new Error('stand-in: no Socket Mode connection');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Send an envelope over Socket Mode; resolves with the payload the app acknowledged with. */
  envelope(type: string, payload: Record<string, unknown>): Promise<unknown> {
    const id = `env-${++this.envelopes}`;
    const ws = this.sockets.find((s) => s.readyState === s.OPEN);
    if (!ws) throw new Error('stand-in: no open Socket Mode connection');
    return new Promise((resolve) => {
      this.socketAcks.set(id, resolve);
      ws.send(JSON.stringify({ envelope_id: id, type, payload, accepts_response_payload: true, retry_attempt: 0, retry_reason: '' }));
    });
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    for (const s of this.sockets) s.terminate();
    this.wss?.close();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** Headers Slack would send: `v0=` HMAC-SHA256 of `v0:{ts}:{body}` with the signing secret. */
export function signedHeaders(body: string, secret: string, ts = Math.floor(Date.now() / 1000)): Record<string, string> {
  const sig = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
  return { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig };
}

export function slashCommandBody(text: string, user: string, standin: SlackStandin, channel = 'C0OPS', id = 'cmd'): Record<string, string> {
  return {
    token: 'legacy',
    team_id: 'T0001',
    team_domain: 'standin',
    channel_id: channel,
    channel_name: 'ops',
    user_id: user,
    user_name: user.toLowerCase(),
    command: '/cluster',
    text,
    api_app_id: 'A0001',
    response_url: standin.responseUrl(id),
    trigger_id: 'trigger',
  };
}

/** A block_actions click; `shown` is the card as the clicker sees it (Slack sends its blocks along). */
export function blockActionPayload(actionId: string, user: string, standin: SlackStandin, card: { channel: string; ts: string }, id = 'click', shown?: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'block_actions',
    team: { id: 'T0001', domain: 'standin' },
    user: { id: user, username: user.toLowerCase(), team_id: 'T0001' },
    api_app_id: 'A0001',
    token: 'legacy',
    container: { type: 'message', message_ts: card.ts, channel_id: card.channel, is_ephemeral: false },
    trigger_id: 'trigger',
    channel: { id: card.channel, name: 'ops' },
    message: { type: 'message', ts: card.ts, text: 'card', ...shown },
    response_url: standin.responseUrl(id),
    actions: [{ type: 'button', block_id: 'b1', action_id: actionId, value: actionId, text: { type: 'plain_text', text: 'x' }, action_ts: '1' }],
  };
}
