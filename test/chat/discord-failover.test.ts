// The full failover flow through Discord (SPEC section 4 over section 7): /cluster failover →
// confirmation card → a non-admin click refused privately → an admin click → exactly one
// promotion → the card updated in place with the result. Needs the failover command: without
// it this file FAILS on purpose (it must never pass or skip silently).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.js';
import { startChatAdapters } from '../../src/chat/adapters.js';
import type { DiscordAdapter } from '../../src/chat/discord/discord-adapter.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { DiscordStandIn, snowflake, type Who } from '../helpers/discord-standin.js';

const guild = snowflake();
const ops = snowflake();
const adminRole = snowflake();
const admin: Who = { userId: snowflake(), username: 'dana', roles: [adminRole] };
const otherAdmin: Who = { userId: snowflake(), username: 'dario', roles: [adminRole] };
const operator: Who = { userId: snowflake(), username: 'oscar', roles: [snowflake()] };

describe('Discord: failover through a confirmation card', () => {
  const standin = new DiscordStandIn();
  let c: TestCluster;
  let adapter: DiscordAdapter;

  const hasFailover = commands.some((x) => x.name === 'failover');

  beforeAll(async () => {
    if (!hasFailover) return;
    await standin.start();
    c = await startTestCluster({
      env: {
        DISCORD_TOKEN: 'discord-test-TOKEN-failover-0123',
        DISCORD_API_URL: standin.apiUrl,
        DISCORD_GUILD_ID: guild,
        ADMINS: `alice,discord-role:${adminRole}`,
        OPERATORS: `olga,discord:${operator.userId}`,
      },
    });
    const started = await startChatAdapters(c.app, c.config);
    adapter = started.adapters.find((a) => a.name === 'discord') as DiscordAdapter;
  });

  afterAll(async () => {
    await c?.destroy();
    if (hasFailover) await standin.stop();
  });

  it('promotes the standby exactly once after an admin confirms on Discord; a non-admin click changes nothing', async () => {
    expect(hasFailover, '/cluster failover is not in commands/index.ts: merge the failover branch (this test drives that command through Discord)').toBe(true);
    expect(adapter.registration).toMatchObject({ changed: true });
    const registered = standin.requests.find((r) => r.method === 'PUT')!.body[0].options as Array<{ name: string }>;
    expect(registered.map((o) => o.name)).toContain('failover');

    // The primary dies; an admin asks for a failover.
    const services = c.app.services;
    await services.runtime.kill(services.node('primary'));
    const i = standin.slash('failover', [], admin, ops, guild);
    const card = await standin.until(() => {
      const m = standin.original(i.token);
      return m && m.components.length ? m : null;
    }, 'the failover confirmation card', 60_000);
    expect(standin.callbacks.get(i.id)?.[0].type).toBe(5);
    expect(card.embeds[0].title).toMatch(/fail ?over|promot/i);
    expect(JSON.stringify(card.embeds[0])).toMatch(/standby/);
    const buttons = card.components[0].components as Array<{ custom_id: string; style: number; disabled: boolean }>;
    const confirm = buttons.find((b) => b.custom_id.startsWith('cb:confirm:'))!;
    expect(confirm.style).toBe(4);
    expect(buttons.some((b) => b.custom_id.startsWith('cb:cancel:'))).toBe(true);

    // An operator's click: refused privately, nothing promoted, the card still live.
    const refused = standin.click(card.id, confirm.custom_id, operator, guild);
    const [privately] = await standin.until(() => standin.ephemeral(refused).length > 0 && standin.ephemeral(refused), 'an ephemeral refusal');
    expect(privately.embeds[0].description).toMatch(/only an admin can confirm/);
    expect((await c.sql<{ r: boolean }>('standby', 'SELECT pg_is_in_recovery() AS r'))[0].r).toBe(true);
    expect(buttons.every((b) => !b.disabled)).toBe(true);

    // Two admins click at once: exactly one promotion; the loser is told privately.
    const first = standin.click(card.id, confirm.custom_id, admin, guild);
    const second = standin.click(card.id, confirm.custom_id, otherAdmin, guild);
    await standin.until(() => adapter.answered.has(first.id) && adapter.answered.has(second.id), 'both clicks answered', 90_000);
    // No live confirmation button is left; the finished card may carry one new button, the offer of a
    // full backup on the new timeline (BACKUP_AFTER_FAILOVER=offer).
    const live = (card.components as Array<{ components: Array<{ label: string; disabled: boolean }> }>).flatMap((r) => r.components).filter((b) => !b.disabled);
    expect(live.filter((b) => b.label !== 'Take a full backup now'), JSON.stringify(card.components)).toEqual([]);
    expect(card.embeds[0].title).not.toMatch(/Confirm/);
    const [loser] = await standin.until(() => {
      const e = [...standin.ephemeral(first), ...standin.ephemeral(second)];
      return e.length ? e : null;
    }, 'the second click refused');
    expect(loser.embeds[0].description).toMatch(/already confirmed by (dana|dario)/);
    expect(card.embeds[0].footer.text).toMatch(/Confirmed by (dana|dario)/);

    const snap = await services.snapshot();
    expect(snap.writable).toEqual(['standby']);
    expect((await c.sql<{ r: boolean }>('standby', 'SELECT pg_is_in_recovery() AS r'))[0].r).toBe(false);
    const confirmations = services.audit.tail(100).filter((e) => e.kind === 'action' && e.command === 'failover' && e.outcome === 'confirmed');
    expect(confirmations).toHaveLength(1);
  });
});
