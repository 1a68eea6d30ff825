// A local stand-in for Discord's REST API and gateway, enough for the real discord.js Client:
// GET /gateway/bot, HELLO / heartbeat ACK / READY / RESUMED, INTERACTION_CREATE dispatch,
// command registration, interaction callbacks and webhook edits, channel messages (with
// enforce_nonce), and faults: an outage (connections cut), lost responses, 429s.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';

export interface Recorded {
  method: string;
  path: string;
  body: any;
  /** Raw body text (multipart uploads stay as text). */
  raw: string;
}

export interface StoredMessage {
  id: string;
  channel_id: string;
  nonce?: string;
  embeds: any[];
  components: any[];
  attachments: any[];
  flags?: number;
  /** Every edit, in order. */
  edits: any[];
}

let nextId = BigInt('1300000000000000000');
export const snowflake = () => String(nextId++);

export class DiscordStandIn {
  readonly applicationId = snowflake();
  readonly botId = this.applicationId;
  readonly requests: Recorded[] = [];
  /** Interaction callbacks (initial responses): id → bodies. */
  readonly callbacks = new Map<string, any[]>();
  /** Messages by id: channel posts, interaction originals (`original:<token>`), follow-ups. */
  readonly messages = new Map<string, StoredMessage>();
  readonly commands = new Map<string, any[]>();
  readonly gateway = { identifies: 0, resumes: 0, connections: 0, heartbeats: 0 };
  /** 'up' answers; 'down' cuts every REST connection (an outage); counts attempts while down. */
  mode: 'up' | 'down' = 'up';
  /** Channel-message routes only (the gateway and registration keep working): 'unavailable' answers 503, 'hang' never answers. */
  channelMessages: 'up' | 'unavailable' | 'hang' = 'up';
  /** Channel-message requests answered 503 or left hanging. */
  unavailableAttempts = 0;
  private readonly hanging = new Set<ServerResponse>();
  downAttempts = 0;
  /** Create the next channel message, then cut the connection before answering (a lost response). */
  loseNextCreateResponse = false;
  /** Answer the next N channel-message requests with 429. */
  rateLimitNext = 0;
  rateLimited = 0;

  private server!: Server;
  private wss!: WebSocketServer;
  private readonly sockets: WebSocket[] = [];
  private readonly sessions = new Map<WebSocket, { id: string; seq: number }>();
  /** Closed sessions that may be resumed, with their last sequence number. */
  private readonly knownSessions = new Map<string, number>();
  private rejectNextResume = false;
  port = 0;
  private waiters: Array<() => void> = [];
  private readonly tokenChannel = new Map<string, string>();
  private readonly clickTokens = new Set<string>();

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.onRequest(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: String(err), code: 0 }));
      });
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, sock, head) => {
      if (!req.url?.startsWith('/gateway')) return sock.destroy();
      this.wss.handleUpgrade(req, sock, head, (ws) => this.onGateway(ws));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Resolves when `test` holds, checked after every request and gateway event. */
  async until<T>(test: () => T | undefined | null | false, what: string, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = test();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`stand-in: timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  private notify(): void {
    const w = this.waiters.splice(0);
    for (const f of w) f();
  }

  // ---------------------------------------------------------------- gateway
  private send(ws: WebSocket, payload: object): void {
    ws.send(JSON.stringify(payload));
  }

  /** Dispatch to the oldest live connection (the bot under test; later ones come and go). */
  private dispatch(t: string, d: object, ws: WebSocket | undefined = this.sockets[0]): void {
    if (!ws) throw new Error('stand-in: no gateway connection');
    const session = this.sessions.get(ws)!;
    this.send(ws, { op: 0, t, s: ++session.seq, d });
  }

  private onGateway(ws: WebSocket): void {
    this.gateway.connections++;
    this.sockets.push(ws);
    this.sessions.set(ws, { id: '', seq: 0 });
    this.send(ws, { op: 10, d: { heartbeat_interval: 41_250 } });
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { op: number; d: any };
      const session = this.sessions.get(ws)!;
      if (msg.op === 1) {
        this.gateway.heartbeats++;
        this.send(ws, { op: 11 });
      } else if (msg.op === 2) {
        this.gateway.identifies++;
        session.id = randomBytes(8).toString('hex');
        this.knownSessions.set(session.id, 0);
        this.dispatch(
          'READY',
          {
            v: 10,
            user: { id: this.botId, username: 'clusterbot', discriminator: '0000', global_name: null, avatar: null, bot: true },
            guilds: [],
            session_id: session.id,
            resume_gateway_url: `ws://127.0.0.1:${this.port}/gateway`,
            application: { id: this.applicationId, flags: 0 },
            shard: [0, 1],
          },
          ws,
        );
      } else if (msg.op === 6) {
        this.gateway.resumes++;
        const seq = this.rejectNextResume ? undefined : this.knownSessions.get(msg.d.session_id);
        this.rejectNextResume = false;
        if (seq === undefined) this.send(ws, { op: 9, d: false });
        else {
          session.id = msg.d.session_id;
          session.seq = seq;
          this.dispatch('RESUMED', {}, ws);
        }
      }
      this.notify();
    });
    ws.on('close', () => {
      const session = this.sessions.get(ws)!;
      if (session.id) this.knownSessions.set(session.id, session.seq);
      this.sockets.splice(this.sockets.indexOf(ws), 1);
      this.notify();
    });
  }

  get connected(): boolean {
    return this.sockets.length > 0;
  }

  /** Forget every session, so a RESUME is answered with INVALID_SESSION and the client must IDENTIFY again. */
  forgetSessions(): void {
    this.knownSessions.clear();
    this.rejectNextResume = true;
  }

  /** Close the bot's gateway connection the way Discord does when it restarts a node (4000: resumable). */
  dropGateway(code = 4000): void {
    this.sockets[0]?.close(code, 'stand-in: connection dropped');
  }

  // ---------------------------------------------------------------- interactions
  private interaction(type: number, data: object, who: Who, channelId: string, guildId: string | null, message?: object): any {
    const id = snowflake();
    const token = `tok_${randomBytes(12).toString('hex')}`;
    const user = { id: who.userId, username: who.username, discriminator: '0', global_name: who.username, avatar: null };
    const base: any = {
      id,
      application_id: this.applicationId,
      type,
      data,
      channel_id: channelId,
      channel: { id: channelId, type: 0, name: 'ops', guild_id: guildId ?? undefined },
      token,
      version: 1,
      app_permissions: '2248473465835073',
      locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': guildId ?? '0' },
      context: 0,
      attachment_size_limit: 10_485_760,
    };
    if (guildId) {
      base.guild_id = guildId;
      base.guild_locale = 'en-US';
      base.guild = { id: guildId, locale: 'en-US', features: [] };
      base.member = { user, roles: who.roles ?? [], nick: null, avatar: null, joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0, permissions: '2248473465835073' };
    } else {
      base.user = user;
    }
    if (message) base.message = message;
    this.tokenChannel.set(token, channelId);
    this.dispatch('INTERACTION_CREATE', base);
    return base;
  }

  /** A `/cluster <sub>` slash command; options as Discord sends them. Returns the interaction's id and token. */
  slash(sub: string, options: Array<{ name: string; type: number; value: unknown }>, who: Who, channelId: string, guildId: string | null = null) {
    const data = { id: snowflake(), name: 'cluster', type: 1, options: [{ name: sub, type: 1, options }] };
    return this.interaction(2, data, who, channelId, guildId) as { id: string; token: string };
  }

  /** A click on a button of a message the bot sent (looked up in this stand-in). */
  /** A button click on a message; `channelId` forges the channel the interaction claims to come from. */
  click(messageId: string, customId: string, who: Who, guildId: string | null = null, channelId?: string) {
    const m = this.messages.get(messageId);
    if (!m) throw new Error(`stand-in: no message ${messageId}`);
    const data = { custom_id: customId, component_type: 2 };
    const i = this.interaction(3, data, who, channelId ?? m.channel_id, guildId, this.apiMessage(m)) as { id: string; token: string };
    // UPDATE_MESSAGE and later @original edits of a click apply to the clicked message.
    this.messages.set(`original:${i.token}`, m);
    this.clickTokens.add(i.token);
    return i;
  }

  /** The message that answers an interaction (its @original), once there is one. */
  original(token: string): StoredMessage | undefined {
    return this.messages.get(`original:${token}`);
  }

  private apiMessage(m: StoredMessage): object {
    return {
      id: m.id,
      channel_id: m.channel_id,
      type: 0,
      content: '',
      author: { id: this.botId, username: 'clusterbot', discriminator: '0000', global_name: null, avatar: null, bot: true },
      embeds: m.embeds,
      components: m.components,
      attachments: m.attachments,
      mentions: [],
      mention_roles: [],
      mention_everyone: false,
      pinned: false,
      tts: false,
      timestamp: new Date().toISOString(),
      edited_timestamp: m.edits.length ? new Date().toISOString() : null,
      flags: m.flags ?? 0,
      nonce: m.nonce,
      application_id: this.applicationId,
      webhook_id: this.applicationId,
    };
  }

  // ---------------------------------------------------------------- REST
  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname).replace(/^\/api(\/v\d+)?/, '');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const body = parseBody(req.headers['content-type'] ?? '', raw);
    const method = req.method ?? 'GET';
    const json = (status: number, data: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(data));
    };
    const isChannelMessage = /^\/channels\/\d+\/messages/.test(path);
    if (this.mode === 'down') {
      this.downAttempts++;
      this.notify();
      req.socket.destroy();
      return;
    }
    if (isChannelMessage && this.channelMessages !== 'up') {
      this.unavailableAttempts++;
      this.notify();
      if (this.channelMessages === 'hang') {
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      }
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Service Unavailable', code: 0 }));
      return;
    }
    if (isChannelMessage && this.rateLimitNext > 0) {
      this.rateLimitNext--;
      this.rateLimited++;
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1', 'x-ratelimit-scope': 'user' });
      res.end(JSON.stringify({ message: 'You are being rate limited.', retry_after: 0.3, global: false }));
      this.notify();
      return;
    }
    this.requests.push({ method, path, body, raw });
    if (process.env.DEBUG_STANDIN) process.stderr.write(`stand-in: ${method} ${path} ${raw.slice(0, 300)}\n`);
    try {
      this.route(method, path, body, raw, json, res, req);
    } finally {
      this.notify();
    }
  }

  private route(method: string, path: string, body: any, raw: string, json: (s: number, d: unknown) => void, res: ServerResponse, req: IncomingMessage): void {
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/gateway/bot') {
      return json(200, { url: `ws://127.0.0.1:${this.port}/gateway`, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 } });
    }
    if ((m = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(path))) {
      const key = m[2] ? `guild:${m[2]}` : 'global';
      if (method === 'GET') return json(200, this.commands.get(key) ?? []);
      if (method === 'PUT') {
        const stored = (body as any[]).map((c) => ({ ...c, id: snowflake(), application_id: this.applicationId, version: snowflake(), default_member_permissions: null, nsfw: false, guild_id: m![2] }));
        this.commands.set(key, stored);
        return json(200, stored);
      }
    }
    if (method === 'POST' && (m = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path))) {
      const list = this.callbacks.get(m[1]) ?? [];
      list.push(body);
      this.callbacks.set(m[1], list);
      const token = m[2];
      if ([4, 5, 7].includes(body.type)) this.storeOriginal(token, body);
      res.writeHead(204);
      return void res.end();
    }
    if ((m = /^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/(@original|\d+))?$/.exec(path))) {
      const [, , token, which] = m;
      if (method === 'PATCH' && which === '@original') {
        const msg = this.original(token) ?? this.newMessage(`original:${token}`, this.tokenChannel.get(token) ?? '0');
        applyEdit(msg, body);
        return json(200, this.apiMessage(msg));
      }
      if (method === 'DELETE' && which === '@original') {
        this.messages.delete(`original:${token}`);
        res.writeHead(204);
        return void res.end();
      }
      if (method === 'POST' && !which) {
        const msg = this.newMessage(`followup:${token}:${snowflake()}`, this.tokenChannel.get(token) ?? '0');
        applyEdit(msg, body);
        msg.edits.length = 0;
        msg.flags = body.flags;
        return json(200, this.apiMessage(msg));
      }
    }
    if ((m = /^\/channels\/(\d+)\/messages(?:\/(\d+))?$/.exec(path))) {
      const [, channelId, messageId] = m;
      if (method === 'POST' && !messageId) {
        const existing = body.enforce_nonce && [...this.messages.values()].find((x) => x.channel_id === channelId && x.nonce === body.nonce);
        if (existing) return json(200, this.apiMessage(existing));
        const msg = this.newMessage(snowflake(), channelId);
        msg.nonce = body.nonce;
        applyEdit(msg, body);
        msg.edits.length = 0;
        if (this.loseNextCreateResponse) {
          this.loseNextCreateResponse = false;
          req.socket.destroy();
          return;
        }
        return json(200, this.apiMessage(msg));
      }
      if (method === 'PATCH' && messageId) {
        const msg = this.messages.get(messageId);
        if (!msg) return json(404, { message: 'Unknown Message', code: 10008 });
        applyEdit(msg, body);
        return json(200, this.apiMessage(msg));
      }
    }
    void raw;
    json(404, { message: `stand-in: no route ${method} ${path}`, code: 0 });
  }

  private newMessage(key: string, channelId: string): StoredMessage {
    const msg: StoredMessage = { id: key.startsWith('original:') || key.startsWith('followup:') ? snowflake() : key, channel_id: channelId, embeds: [], components: [], attachments: [], edits: [] };
    this.messages.set(key, msg);
    if (msg.id !== key) this.messages.set(msg.id, msg);
    return msg;
  }

  private storeOriginal(token: string, body: any): void {
    const existing = this.original(token);
    if (body.type === 7) {
      if (existing) applyEdit(existing, body.data ?? {});
      return;
    }
    // A click answered with a new message (4/5) gets its own @original; an UPDATE (7) edits the clicked one.
    if (existing && !this.clickTokens.delete(token)) return;
    const msg = this.newMessage(`original:${token}`, this.tokenChannel.get(token) ?? '0');
    msg.flags = body.data?.flags;
    if (body.type === 4) {
      applyEdit(msg, body.data ?? {});
      msg.edits.length = 0;
    }
  }

  /** Ephemeral answers to an interaction: an immediate reply or follow-ups flagged 64. */
  ephemeral(i: { id: string; token: string }): any[] {
    const direct = (this.callbacks.get(i.id) ?? []).filter((c) => c.type === 4 && (c.data?.flags ?? 0) & 64).map((c) => c.data);
    const followups = [...this.messages.entries()].filter(([k, m]) => k.startsWith(`followup:${i.token}:`) && (m.flags ?? 0) & 64).map(([, m]) => m);
    return [...direct, ...followups];
  }
}

export interface Who {
  userId: string;
  username: string;
  roles?: string[];
}

function applyEdit(msg: StoredMessage, body: any): void {
  if (body.embeds !== undefined) msg.embeds = body.embeds;
  if (body.components !== undefined) msg.components = body.components;
  if (body.attachments !== undefined) msg.attachments = body.attachments;
  msg.edits.push(body);
}

function parseBody(type: string, raw: string): any {
  if (!raw) return undefined;
  if (type.startsWith('application/json')) return JSON.parse(raw);
  if (type.startsWith('multipart/form-data')) {
    const m = /name="payload_json"(?:\r?\n[^\r\n]*)*?\r?\n\r?\n([\s\S]*?)\r?\n--/.exec(raw);
    return m ? JSON.parse(m[1]) : {};
  }
  return raw;
}
