// Ask before acting: a card with Confirm / Cancel buttons backed by a single-use pending action.
import { randomBytes } from 'node:crypto';
import { errorReply, type Field, type Reply } from '../chat/reply.js';
import { aLevel, atLeast, type CommandContext, type Level } from './command.js';
import { CANCEL_PREFIX, CONFIRM_PREFIX } from './pending.js';

export interface ConfirmRequest {
  command: string;
  summary: string;
  confirmLabel: string;
  level: Level;
  text?: string;
  fields?: Field[];
  data?: Record<string, unknown>;
  run(ctx: CommandContext): Promise<Reply>;
}

function createPending(ctx: CommandContext, req: ConfirmRequest, typedCode?: string) {
  return ctx.services.pending.create({
    command: req.command,
    summary: req.summary,
    requester: ctx.user,
    channel: ctx.surface.channel,
    level: req.level,
    confirmLabel: req.confirmLabel,
    confirmText: `${req.summary}?`,
    typedCode,
    run: req.run,
  });
}

export function askConfirmation(ctx: CommandContext, req: ConfirmRequest): Reply {
  const { config } = ctx.services;
  const { action, buttons } = createPending(ctx, req);
  const who = config.REQUIRE_SECOND_APPROVER ? `another ${req.level} (two-person rule)` : aLevel(req.level);
  return {
    title: `Confirm: ${req.summary}`,
    severity: 'warn',
    text: req.text,
    fields: req.fields,
    buttons,
    context: `Requested by ${ctx.user.display}. Must be confirmed by ${who} before ${new Date(action.expiresAt).toISOString().slice(11, 19)} UTC (${config.PENDING_ACTION_TTL_SECONDS} s).`,
    data: { pendingAction: action.id, expiresAt: new Date(action.expiresAt).toISOString(), ...req.data },
  };
}

// Typed confirmations: for the most dangerous commands one click is not enough. The card shows a
// short code and only Cancel; another person of the level types `/cluster <command> confirm <code>`
// in the same channel. That is plain text, so it works the same in the terminal, Slack and Discord.
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no 0/O, 1/I: read off a screen and typed
export const TYPED_CODE = /^[A-Za-z0-9]{3}-?[A-Za-z0-9]{3}$/;

function newCode(): string {
  const chars = [...randomBytes(6)].map((b) => CODE_ALPHABET[b % CODE_ALPHABET.length]);
  return `${chars.slice(0, 3).join('')}-${chars.slice(3).join('')}`;
}

const hhmmss = (ms: number) => new Date(ms).toISOString().slice(11, 19);

export function askTypedConfirmation(ctx: CommandContext, req: ConfirmRequest): Reply {
  const code = newCode();
  const { action, buttons } = createPending(ctx, req, code);
  const { config } = ctx.services;
  return {
    title: `Confirm: ${req.summary}`,
    severity: 'crit',
    text: req.text,
    fields: [...(req.fields ?? []), { label: 'To confirm', value: `another ${req.level} (not ${ctx.user.display}) types here: /cluster ${req.command} confirm ${code}` }],
    buttons: buttons.filter((b) => b.actionId.startsWith(CANCEL_PREFIX)),
    context: `Requested by ${ctx.user.display}. A click is not enough: a second ${req.level} must type the code in this channel before ${hhmmss(action.expiresAt)} UTC (${config.PENDING_ACTION_TTL_SECONDS} s); the code works once.`,
    data: { pendingAction: action.id, code, expiresAt: new Date(action.expiresAt).toISOString(), requestedBy: ctx.user.id, ...req.data },
  };
}

/**
 * `/cluster <command> confirm <code>`: every check a Confirm button has (level, expiry, single use,
 * channel), plus one more whatever REQUIRE_SECOND_APPROVER says: the requester cannot confirm.
 */
export async function confirmTyped(ctx: CommandContext, command: string, code: string): Promise<Reply> {
  const { pending, audit } = ctx.services;
  const who = ctx.user;
  const base = { user: who.id, platform: who.platform, channel: ctx.surface.channel, command };
  const refuse = (outcome: string, line: string, title = 'Not allowed'): Reply => {
    audit.record({ ...base, kind: 'refusal', outcome, detail: line });
    return errorReply(line, title);
  };
  const found = pending.byCode(command, code);
  if (!found) {
    return refuse('unknown code', `no pending /cluster ${command} has the code "${code.slice(0, 12)}" — type the code exactly as the card shows it, or ask again with /cluster ${command}`, 'Not done');
  }
  const taken = pending.take(CONFIRM_PREFIX + found.id);
  if (!taken.ok) return refuse('stale confirmation', taken.reason, 'Not done');
  const { action } = taken;
  if (action.channel !== ctx.surface.channel) {
    return refuse('foreign channel', `this code belongs to another channel — type it where /cluster ${command} was asked, or ask again here`, 'Not here');
  }
  if (!atLeast(who.level, action.level)) {
    return refuse('forbidden', `${who.display} is ${aLevel(who.level)}; only ${aLevel(action.level)} can confirm: ${action.summary}`);
  }
  if (who.id === action.requester.id) {
    return refuse('forbidden', `${action.summary} needs a second ${action.level}: ${who.display} asked for it, so another ${action.level} must type the code (always, whatever REQUIRE_SECOND_APPROVER says)`);
  }
  pending.claim(action, who, 'confirmed');
  audit.record({ ...base, kind: 'action', outcome: 'confirmed', detail: { action: action.id, summary: action.summary, requestedBy: action.requester.id, typed: true } });
  let reply: Reply | null = null;
  try {
    reply = await action.run(ctx);
    return reply;
  } finally {
    action.state = reply && !reply.failed ? 'done' : 'failed';
    audit.record({ ...base, kind: 'action', outcome: action.state, detail: reply?.failed ? reply.text : (reply?.title ?? 'error') });
  }
}
