// Discord interactions → the Router. Slash commands become "/cluster <sub> <args…>"; button
// clicks go to Router.press. Permissions, validation, confirmations and audit stay in the
// router; here: who the person is, which channel, and how the answer travels back.
import { MessageFlags, type ButtonInteraction, type ChatInputCommandInteraction, type Interaction } from 'discord.js';
import type { Config } from '../../config.js';
import { atLeast } from '../../core/command.js';
import type { AppServices } from '../../core/command.js';
import type { Principal, Surface } from '../../core/context.js';
import type { Logger } from '../../core/logger.js';
import { splitCommandLine } from '../../core/parse.js';
import { levelOf } from '../../core/permissions.js';
import { COMMAND_BUTTON_PREFIX, type Router } from '../../core/router.js';
import { CANCEL_PREFIX } from '../../core/pending.js';
import { foreignChannelRefusal, pendingIdOf } from '../confirmation-channel.js';
import { errorLine } from '../../errors.js';
import { errorReply, type Reply } from '../reply.js';
import { renderMessage } from './render.js';
import { CardResponder, NewMessageResponder } from './responder.js';
import { ROOT_COMMAND, commandText, type ReceivedOption } from './slash-commands.js';

export interface InteractionDeps {
  router: Router;
  services: AppServices;
  log: Logger;
  /** Told once an interaction is fully answered (for observers and tests). */
  answered?: (interactionId: string, steps: readonly string[]) => void;
}

/** How long a button click may run before the card is acknowledged ("working…"). Discord allows 3 s. */
const CARD_ACK_AFTER_MS = 1200;

type Member = { nick?: string | null; nickname?: string | null; roles?: string[] | { cache: Map<string, unknown> } } | null;

/** `discord:<user id>`, with the member's roles as `discord-role:<id>` groups. */
export function principalOf(i: Interaction): Principal {
  const member = i.member as Member;
  const roles = Array.isArray(member?.roles) ? member.roles : member?.roles ? [...member.roles.cache.keys()] : [];
  const display = member?.nickname ?? member?.nick ?? i.user.globalName ?? i.user.username;
  return { id: `discord:${i.user.id}`, display, platform: 'discord', groups: roles.map((r) => `discord-role:${r}`) };
}

/** The allow-list, plus the bot's own post channels: their alerts carry buttons ("Start failover…"). */
function channelAllowed(config: Config, channelId: string | null): boolean {
  if (config.DISCORD_ALLOWED_CHANNELS.length === 0) return true;
  const own = [config.DISCORD_ALERT_CHANNEL, config.DISCORD_REPORT_CHANNEL, config.DISCORD_BACKUP_CHANNEL];
  return channelId !== null && (config.DISCORD_ALLOWED_CHANNELS.includes(channelId) || own.includes(channelId));
}

async function replyEphemeral(i: ChatInputCommandInteraction | ButtonInteraction, r: Reply): Promise<void> {
  const m = renderMessage(r);
  await i.reply({ embeds: m.embeds, flags: MessageFlags.Ephemeral });
}

export async function handleInteraction(i: Interaction, deps: InteractionDeps): Promise<void> {
  if (!(i.isChatInputCommand() && i.commandName === ROOT_COMMAND) && !i.isButton()) return;
  const who = principalOf(i);
  const { services } = deps;
  if (!channelAllowed(services.config, i.channelId)) {
    const command = i.isButton() ? i.customId : (i.options.getSubcommand(false) ?? 'help');
    services.audit.record({ user: who.id, platform: 'discord', channel: i.channelId ?? undefined, kind: 'refusal', command, outcome: 'channel not allowed' });
    const allowed = services.config.DISCORD_ALLOWED_CHANNELS.map((c) => `<#${c}>`).join(', ');
    await replyEphemeral(i, errorReply(`clusterbot does not take commands in this channel — use ${allowed}`, 'Not allowed here'));
    deps.answered?.(i.id, ['ephemeral']);
    return;
  }
  try {
    if (i.isChatInputCommand()) {
      const options = (i.options.data[0]?.options ?? []) as readonly ReceivedOption[];
      await runCommand(i, commandText(i.options.getSubcommand(false) ?? 'help', options, services.commands), who, deps);
    } else if (i.customId.startsWith(COMMAND_BUTTON_PREFIX)) {
      await runCommand(i, i.customId.slice(COMMAND_BUTTON_PREFIX.length), who, deps);
    } else {
      await pressCard(i, who, deps);
    }
  } catch (err) {
    deps.log.error({ err, interaction: i.id }, 'discord interaction failed');
    const r = errorReply(`${services.masker.mask(errorLine(err))} — details are in the bot log`, 'Failed');
    if (i.replied || i.deferred) await i.followUp({ embeds: renderMessage(r).embeds, flags: MessageFlags.Ephemeral }).catch(() => undefined);
    else await replyEphemeral(i, r).catch(() => undefined);
  }
}

/**
 * A command: refusals are answered at once (ephemeral); anything allowed is deferred first,
 * because every command reads PostgreSQL and a node that does not answer costs seconds
 * (connect timeout per node) — exactly when the bot is needed, Discord's 3-second deadline must hold.
 */
async function runCommand(i: ChatInputCommandInteraction | ButtonInteraction, text: string, who: Principal, deps: InteractionDeps): Promise<void> {
  const { router, services } = deps;
  const cmd = router.find((splitCommandLine(text)[0] ?? 'help').toLowerCase());
  const responder = new NewMessageResponder(i);
  const surface: Surface = { platform: 'discord', channel: i.channelId ?? 'dm', progress: (r) => responder.progress(r) };
  if (cmd && atLeast(levelOf(services.config, who), cmd.level)) await responder.ack();
  const reply = await router.handle(text, who, surface);
  await responder.finish(reply);
  deps.log.info({ interaction: i.id, command: cmd?.name, answered: responder.steps }, 'discord command answered');
  deps.answered?.(i.id, responder.steps);
}

/** Confirm / Cancel on a card: refusals ephemeral with the card untouched; otherwise the card becomes the result. */
async function pressCard(i: ButtonInteraction, who: Principal, deps: InteractionDeps): Promise<void> {
  const foreign = foreignChannelRefusal(deps.services, i.customId, i.channelId ?? 'dm', who);
  if (foreign) {
    await replyEphemeral(i, foreign);
    deps.answered?.(i.id, ['ephemeral']);
    return;
  }
  const verb = i.customId.startsWith(CANCEL_PREFIX) ? 'Cancelled' : 'Confirmed';
  const pendingId = pendingIdOf(i.customId);
  const action = pendingId ? deps.services.pending.get(pendingId) : undefined;
  // Expired, unknown (e.g. from before a restart) or already handled: the buttons can never work again.
  const stale = pendingId !== null && (!action || action.state !== 'pending' || Date.now() > action.expiresAt);
  // While the winner is still editing the card, only its buttons are touched (never its text).
  const responder = new CardResponder(i, `${verb} by ${who.display}`, stale ? (action?.state === 'running' ? 'buttons' : 'card') : false);
  const surface: Surface = { platform: 'discord', channel: i.channelId ?? 'dm', progress: (r) => responder.progress(r) };
  const timer = setTimeout(() => void responder.ack().catch((err: unknown) => deps.log.warn({ err }, 'acknowledging a card failed')), CARD_ACK_AFTER_MS);
  try {
    const reply = await deps.router.press(i.customId, who, surface);
    clearTimeout(timer);
    await responder.finish(reply);
  } finally {
    clearTimeout(timer);
  }
  deps.log.info({ interaction: i.id, button: i.customId, answered: responder.steps }, 'discord button answered');
  deps.answered?.(i.id, responder.steps);
}
