// What Slack sends us: the /cluster slash command and button clicks. Both go through the Router
// (permissions, validation, confirmations, audit); this file only maps them to Slack's ack /
// respond / chat.update and keeps every answer inside Slack's 3-second window.
import type { App as BoltApp, BlockAction, RespondFn as BoltRespond } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { AppServices } from '../../core/command.js';
import type { Principal, Surface } from '../../core/context.js';
import { COMMAND_BUTTON_PREFIX, type Router } from '../../core/router.js';
import { splitCommandLine } from '../../core/parse.js';
import { errorReply, type Image, type Reply } from '../reply.js';
import { foreignChannelRefusal, pendingIdOf } from '../confirmation-channel.js';
import { renderMessage, withoutActions, type SlackMessage } from './blocks.js';
import type { SlackPeople } from './people.js';
import { ReplySession, RESPONSE_URL_USES } from './reply-session.js';

export interface HandlerDeps {
  router: Router;
  services: AppServices;
  people: SlackPeople;
  /** Interactive Web API calls (chat.update of a card, chat.postMessage of a new one). */
  client: WebClient;
  /** Keep long work alive after the listener returned (awaited on stop). */
  track(work: Promise<unknown>): void;
  /** Commands not marked slow get this long to answer in the ack itself (Slack allows 3 s). */
  ackAfterMs: number;
  /** Upload a reply's chart into the channel (files.uploadV2). */
  upload(channel: string, image: Image, thread?: string): Promise<void>;
}

export const ACTION_PATTERN = /^cb:/;

function channelRefusal(deps: HandlerDeps, who: Principal, channel: string, what: string): Reply {
  deps.services.audit.record({ kind: 'refusal', user: who.id, platform: 'slack', channel, command: what, outcome: 'channel not allowed' });
  return errorReply(`clusterbot does not take commands in this channel — use one of the channels in SLACK_ALLOWED_CHANNELS`, 'Not allowed here');
}

function workingReply(text: string): Reply {
  return { title: `Working on /cluster ${text.trim() || 'help'}…`, severity: 'info', text: 'This takes a moment; this message updates when it is done.' };
}

export function registerHandlers(bolt: BoltApp, deps: HandlerDeps): void {
  const log = deps.services.log;

  bolt.command('/cluster', async ({ command, ack, respond }) => {
    const who = await deps.people.principal({ id: command.user_id, username: command.user_name });
    const session = new ReplySession(async (m) => ack(m), async (m) => respond(m));
    if (!deps.people.channelAllowed(command.channel_id)) {
      await session.finish(channelRefusal(deps, who, command.channel_id, splitCommandLine(command.text)[0] ?? 'help'));
      return;
    }
    const surface: Surface = { platform: 'slack', channel: command.channel_id, progress: (r) => session.progress(r) };
    const sub = (splitCommandLine(command.text)[0] ?? 'help').toLowerCase();
    const slow = deps.router.find(sub)?.slow === true;
    const ackNow = () => void session.working(workingReply(command.text)).catch((err: unknown) => log.error({ err }, 'slack: ack failed'));
    // Slow commands are acknowledged before they start; others get ackAfterMs to answer in the ack.
    if (slow) ackNow();
    const timer = slow ? undefined : setTimeout(ackNow, deps.ackAfterMs);
    deps.track(
      deps.router
        .handle(command.text, who, surface)
        .catch((err: unknown) => {
          log.error({ err }, 'slack: /cluster failed');
          return errorReply('internal error — details are in the bot log', 'Failed');
        })
        .then(async (reply) => {
          await session.finish(reply);
          if (reply.image) await deps.upload(command.channel_id, reply.image);
        })
        .catch((err: unknown) => log.error({ err }, 'slack: answering /cluster failed'))
        .finally(() => clearTimeout(timer)),
    );
    // The listener returns as soon as Slack has its answer; slower work continues in the background.
    await session.whenAcked;
  });

  bolt.action<BlockAction>(ACTION_PATTERN, async ({ body, action, ack, respond }) => {
    await ack();
    deps.track(
      onClick(deps, body, 'action_id' in action ? String(action.action_id) : '', respond).catch((err: unknown) =>
        log.error({ err }, 'slack: handling a button failed'),
      ),
    );
  });
}

interface CardRef {
  channel: string;
  ts?: string;
  ephemeral: boolean;
}

/** Edit the clicked card in place: chat.update where the bot owns it, else the response_url. */
function cardEditor(deps: HandlerDeps, card: CardRef, respond: BoltRespond): (r: Reply, final?: boolean, rendered?: SlackMessage) => Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  let responses = 0;
  let updatable = !card.ephemeral && card.ts !== undefined;
  const edit = async (r: Reply, final: boolean, rendered?: SlackMessage) => {
    const msg = rendered ?? renderMessage(r);
    if (updatable) {
      try {
        await deps.client.chat.update({ channel: card.channel, ts: card.ts!, ...msg });
        return;
      } catch (err) {
        // Messages created by a slash-command response may not be the bot's own: use the response_url.
        updatable = false;
        deps.services.log.debug({ err: (err as Error).message }, 'slack: chat.update refused, replacing via response_url');
      }
    }
    if (!final && responses >= RESPONSE_URL_USES - 1) return;
    responses++;
    await respond({ ...msg, replace_original: true });
  };
  return (r, final = false, rendered) => {
    // One failed edit must not stop later ones (the final result matters most).
    const next = chain.catch(() => undefined).then(() => edit(r, final, rendered));
    chain = next;
    return next;
  };
}

async function onClick(deps: HandlerDeps, body: BlockAction, actionId: string, respond: BoltRespond): Promise<void> {
  const who = await deps.people.principal(body.user);
  const channel = body.channel?.id ?? String(body.container?.channel_id ?? '');
  const ephemeral = async (r: Reply) => {
    await respond({ ...renderMessage(r), response_type: 'ephemeral', replace_original: false });
  };
  if (!deps.people.channelAllowed(channel)) return ephemeral(channelRefusal(deps, who, channel, actionId));

  if (actionId.startsWith(COMMAND_BUTTON_PREFIX)) return runCommandButton(deps, who, channel, actionId, respond);
  const foreign = foreignChannelRefusal(deps.services, actionId, channel, who);
  if (foreign) return ephemeral(foreign);

  const card: CardRef = { channel, ts: body.container?.message_ts ?? body.message?.ts, ephemeral: body.container?.is_ephemeral === true };
  const editCard = cardEditor(deps, card, respond);
  // Progress from the action waits behind the "Running" edit below, so it cannot be overwritten.
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const surface: Surface = {
    platform: 'slack',
    channel,
    progress: async (r) => {
      await gate;
      await editCard(r);
    },
  };
  const pendingId = pendingIdOf(actionId);
  const action = pendingId ? deps.services.pending.get(pendingId) : undefined;
  const wasPending = action?.state === 'pending';
  // Expired, unknown (e.g. from before a restart) or already handled: the buttons can never work again.
  const stale = pendingId !== null && (!action || !wasPending || Date.now() > action.expiresAt);
  const work = deps.router.press(actionId, who, surface);
  // The router claims a confirmation synchronously, before it runs: if this click claimed it,
  // take the buttons off at once so nobody clicks a card that is already being handled.
  if (wasPending && action?.state === 'running') {
    void editCard({ title: `Running: ${action.summary}`, severity: 'info', text: `Confirmed by ${who.display}; this card updates as it goes.` }).catch((err: unknown) =>
      deps.services.log.warn({ err: (err as Error).message }, 'slack: could not mark the card running'),
    );
  }
  open();
  const reply = await work;
  if (reply.ephemeral) {
    // A stale card loses its buttons for everyone (unless its winner is still editing it).
    const card = stale && action?.state !== 'running' && body.message ? withoutActions(body.message, `⌛ ${reply.text ?? reply.title}`) : null;
    if (card) await editCard({ title: '', severity: 'info' }, true, card).catch((err: unknown) => deps.services.log.warn({ err: (err as Error).message }, 'slack: could not take the buttons off a stale card'));
    return ephemeral(reply);
  }
  const handled = wasPending ? action?.handledBy : undefined;
  const by = handled ? `${handled.verb === 'confirmed' ? 'Confirmed' : 'Cancelled'} by ${handled.who.display}` : '';
  await editCard({ ...reply, buttons: reply.buttons ?? [], context: [by, reply.context].filter(Boolean).join(' · ') || undefined }, true);
  if (reply.image) await deps.upload(channel, reply.image);
}

/** A `cb:cmd:/cluster …` button runs that command as the clicker; the answer is a new message. */
async function runCommandButton(deps: HandlerDeps, who: Principal, channel: string, actionId: string, respond: BoltRespond): Promise<void> {
  let posted: { channel: string; ts: string } | null = null;
  // Without chat:write in this channel (bot not invited), the result still arrives via the response_url.
  let viaRespond = false;
  let chain: Promise<void> = Promise.resolve();
  const show = (r: Reply, final = false) => {
    chain = chain.catch(() => undefined).then(async () => {
      const msg = renderMessage(r);
      if (!viaRespond) {
        try {
          if (posted) await deps.client.chat.update({ ...posted, ...msg });
          else {
            const res = await deps.client.chat.postMessage({ channel, ...msg });
            posted = { channel: res.channel ?? channel, ts: String(res.ts) };
          }
          return;
        } catch (err) {
          viaRespond = true;
          deps.services.log.warn({ err: (err as Error).message, channel }, 'slack: cannot post in this channel (invite the bot?); answering via response_url');
        }
      }
      if (final) await respond({ ...msg, response_type: 'in_channel', replace_original: false });
    });
    return chain;
  };
  const reply = await deps.router.press(actionId, who, { platform: 'slack', channel, progress: (r) => show(r) });
  await chain.catch(() => undefined);
  if (reply.ephemeral && !posted) {
    await respond({ ...renderMessage(reply), response_type: 'ephemeral', replace_original: false });
    return;
  }
  await show(reply, true);
  if (reply.image) await deps.upload(channel, reply.image);
}
