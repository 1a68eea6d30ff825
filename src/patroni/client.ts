// Patroni's REST API: /cluster and /patroni to read, /switchover, /failover, /restart,
// /reinitialize and PATCH /config to act. Every call has a timeout; reads try each configured
// member in turn, because any live member can describe the whole cluster.
import type { Config } from '../config.js';
import { UserError } from '../errors.js';

export interface PatroniMember {
  name: string;
  role: 'leader' | 'replica' | 'sync_standby' | 'standby_leader' | string;
  state: string;
  api_url?: string;
  host?: string;
  port?: number;
  timeline?: number;
  /** Bytes behind the leader, or "unknown". Absent on the leader. */
  lag?: number | 'unknown';
  tags?: { nofailover?: boolean; [k: string]: unknown };
  pending_restart?: boolean;
}

export interface PatroniCluster {
  members: PatroniMember[];
  pause?: boolean;
  scheduled_switchover?: { at: string; from?: string; to?: string };
}

export interface PatroniNodeStatus {
  state: string;
  role: string;
  timeline?: number;
  pause?: boolean;
  /** Only present (true) when a watchdog in mode "required" could not be activated. */
  watchdog_failed?: boolean;
  xlog?: { location?: number; received_location?: number; replayed_location?: number; paused?: boolean };
  replication?: Array<{ application_name: string; state: string; sync_state: string }>;
  patroni?: { version: string; scope: string };
}

export interface PatroniAnswer {
  status: number;
  body: string;
}

/** Raised when no member answers; the message names each URL and why. */
export class PatroniUnreachable extends Error {}

export class PatroniClient {
  constructor(
    readonly urls: string[],
    private readonly auth: { username: string; password: string } | null,
    private readonly timeoutMs: number,
  ) {}

  static fromConfig(config: Config): PatroniClient {
    if (!config.PATRONI_URLS.length) {
      throw new UserError('CLUSTER_BACKEND=patroni needs PATRONI_URLS', 'set it to the members\' REST endpoints, e.g. PATRONI_URLS=http://10.0.0.1:8008,http://10.0.0.2:8008', 'config');
    }
    const auth = config.PATRONI_USERNAME ? { username: config.PATRONI_USERNAME, password: config.PATRONI_PASSWORD ?? '' } : null;
    return new PatroniClient(config.PATRONI_URLS.map((u) => u.replace(/\/+$/, '')), auth, config.PATRONI_TIMEOUT_MS);
  }

  /** The whole cluster as the first answering member sees it, and which URL answered. */
  async cluster(): Promise<{ cluster: PatroniCluster; via: string }> {
    const problems: string[] = [];
    for (const url of this.urls) {
      try {
        const r = await this.request('GET', `${url}/cluster`);
        if (r.status === 200) return { cluster: JSON.parse(r.body) as PatroniCluster, via: url };
        problems.push(`${url}: HTTP ${r.status}`);
      } catch (e) {
        problems.push(`${url}: ${(e as Error).message}`);
      }
    }
    throw new PatroniUnreachable(`no Patroni member answered (${problems.join('; ')})`);
  }

  /** The dynamic configuration in the DCS (GET /config), as the first answering member serves it. */
  async dynamicConfig(): Promise<Record<string, unknown>> {
    const problems: string[] = [];
    for (const url of this.urls) {
      try {
        const r = await this.request('GET', `${url}/config`);
        if (r.status === 200) return JSON.parse(r.body) as Record<string, unknown>;
        problems.push(`${url}: HTTP ${r.status}`);
      } catch (e) {
        problems.push(`${url}: ${(e as Error).message}`);
      }
    }
    throw new PatroniUnreachable(`no Patroni member served /config (${problems.join('; ')})`);
  }

  /** One member's own view (GET /patroni on its api_url). */
  async node(apiUrl: string, timeoutMs = this.timeoutMs): Promise<PatroniNodeStatus> {
    const r = await this.request('GET', apiUrl, undefined, timeoutMs);
    // 503 is how Patroni says "not the leader / not healthy", with the same JSON body.
    if (r.status !== 200 && r.status !== 503) throw new Error(`HTTP ${r.status}`);
    return JSON.parse(r.body) as PatroniNodeStatus;
  }

  /** POST to the first member that answers (any member relays switchover/failover through the DCS). */
  async postAny(path: string, body: unknown, timeoutMs: number): Promise<PatroniAnswer> {
    let last: Error | null = null;
    for (const url of this.urls) {
      try {
        return await this.request('POST', `${url}${path}`, body, timeoutMs);
      } catch (e) {
        last = e as Error;
      }
    }
    throw new PatroniUnreachable(`no Patroni member accepted ${path}: ${last?.message ?? 'no URLs'}`);
  }

  /** POST to one member's own endpoint (restart, reinitialize act on that member). */
  async postMember(member: PatroniMember, path: string, body: unknown, timeoutMs: number): Promise<PatroniAnswer> {
    return this.request('POST', `${memberBase(member)}${path}`, body, timeoutMs);
  }

  /** PATCH /config on the first member that answers (the dynamic configuration lives in the DCS). */
  async patchConfig(body: Record<string, unknown>): Promise<PatroniAnswer> {
    let last: Error | null = null;
    for (const url of this.urls) {
      try {
        return await this.request('PATCH', `${url}/config`, body);
      } catch (e) {
        last = e as Error;
      }
    }
    throw new PatroniUnreachable(`no Patroni member accepted PATCH /config: ${last?.message ?? 'no URLs'}`);
  }

  async setPaused(paused: boolean): Promise<PatroniAnswer> {
    let last: Error | null = null;
    for (const url of this.urls) {
      try {
        return await this.request('PATCH', `${url}/config`, { pause: paused });
      } catch (e) {
        last = e as Error;
      }
    }
    throw new PatroniUnreachable(`no Patroni member accepted PATCH /config: ${last?.message ?? 'no URLs'}`);
  }

  async request(method: string, url: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<PatroniAnswer> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.auth) headers.authorization = `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64')}`;
    try {
      const r = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: r.status, body: await r.text() };
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      if (err.name === 'TimeoutError') throw new Error(`no answer within ${timeoutMs} ms`);
      throw new Error(err.cause?.code ?? err.message);
    }
  }
}

/** A member's REST base URL (api_url ends in /patroni). */
export function memberBase(member: PatroniMember): string {
  if (!member.api_url) throw new UserError(`Patroni member ${member.name} publishes no REST address`, 'check its restapi.connect_address');
  return member.api_url.replace(/\/patroni\/?$/, '');
}

/** Patroni's answer in one line, with the fix for a refused login. */
export function describeAnswer(a: PatroniAnswer): string {
  const hint = a.status === 401 ? ' — set PATRONI_USERNAME and PATRONI_PASSWORD to the restapi.authentication of Patroni' : '';
  return `HTTP ${a.status}: ${a.body.trim().slice(0, 300)}${hint}`;
}

export const isLeader = (m: PatroniMember) => m.role === 'leader' || m.role === 'standby_leader';
