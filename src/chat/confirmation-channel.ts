// A confirmation belongs to the channel it was asked in. A click on its id from any other channel
// (a forged payload, a card copied or forwarded elsewhere) is refused before the router sees it,
// and the card keeps its buttons for the channel where it is real.
import type { AppServices } from '../core/command.js';
import type { Principal } from '../core/context.js';
import { CANCEL_PREFIX, CONFIRM_PREFIX } from '../core/pending.js';
import { errorReply, type Reply } from './reply.js';

export function pendingIdOf(actionId: string): string | null {
  if (actionId.startsWith(CONFIRM_PREFIX)) return actionId.slice(CONFIRM_PREFIX.length);
  if (actionId.startsWith(CANCEL_PREFIX)) return actionId.slice(CANCEL_PREFIX.length);
  return null;
}

export function foreignChannelRefusal(services: AppServices, actionId: string, channel: string, who: Principal): Reply | null {
  const id = pendingIdOf(actionId);
  const action = id ? services.pending.get(id) : undefined;
  if (!action || action.channel === channel || postedToAlerts(services, action.channel, channel)) return null;
  services.audit.record({ kind: 'refusal', user: who.id, platform: who.platform, channel, command: action.command, outcome: 'foreign channel', detail: `confirmation asked in ${action.channel}` });
  return errorReply(`this confirmation belongs to another channel — confirm it on the card where /cluster ${action.command} was asked, or run the command here`, 'Not here');
}

/** A card the bot posted on its own to the alerts channel (a resumable failover) is confirmed there. */
function postedToAlerts(services: AppServices, asked: string, clicked: string): boolean {
  const { SLACK_ALERT_CHANNEL, DISCORD_ALERT_CHANNEL } = services.config;
  return asked === 'alerts' && (clicked === SLACK_ALERT_CHANNEL || clicked === DISCORD_ALERT_CHANNEL);
}
