// Who is clicking, in clusterbot's terms: `slack:<user id>` plus, when SLACK_USER_GROUPS is on,
// `slack-group:<id>` for every user group they belong to (levels come from ADMINS/OPERATORS/VIEWERS).
import type { WebClient } from '@slack/web-api';
import type { Config } from '../../config.js';
import type { Principal } from '../../core/context.js';
import type { Logger } from '../../core/logger.js';

const GROUP_CACHE_MS = 5 * 60_000;

export interface SlackUser {
  id: string;
  name?: string;
  username?: string;
}

export class SlackPeople {
  private groups: { at: number; byUser: Map<string, string[]> } | null = null;

  constructor(
    private readonly config: Config,
    private readonly client: WebClient,
    private readonly log: Logger,
  ) {}

  async principal(user: SlackUser): Promise<Principal> {
    const display = user.username ?? user.name ?? user.id;
    const p: Principal = { id: `slack:${user.id}`, display: `${display} (${user.id})`, platform: 'slack' };
    if (this.config.SLACK_USER_GROUPS) p.groups = await this.groupsOf(user.id);
    return p;
  }

  /** Is /cluster accepted in this channel? Empty SLACK_ALLOWED_CHANNELS = everywhere. */
  channelAllowed(channel: string | undefined): boolean {
    const allowed = this.config.SLACK_ALLOWED_CHANNELS;
    return allowed.length === 0 || (channel !== undefined && allowed.includes(channel));
  }

  private async groupsOf(userId: string): Promise<string[]> {
    if (!this.groups || Date.now() - this.groups.at > GROUP_CACHE_MS) {
      try {
        const res = await this.client.usergroups.list({ include_users: true });
        const byUser = new Map<string, string[]>();
        for (const g of res.usergroups ?? []) {
          for (const u of g.users ?? []) byUser.set(u, [...(byUser.get(u) ?? []), `slack-group:${g.id}`]);
        }
        this.groups = { at: Date.now(), byUser };
      } catch (err) {
        // Without the lookup, people still have whatever their own id grants.
        this.log.warn({ err: (err as Error).message }, 'slack: user-group lookup failed (needs usergroups:read)');
        return this.groups?.byUser.get(userId) ?? [];
      }
    }
    return this.groups.byUser.get(userId) ?? [];
  }
}
