// Ask before acting: a card with Confirm / Cancel buttons backed by a single-use pending action.
import type { Field, Reply } from '../chat/reply.js';
import { aLevel, type CommandContext, type Level } from './command.js';

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

export function askConfirmation(ctx: CommandContext, req: ConfirmRequest): Reply {
  const { pending, config } = ctx.services;
  const { action, buttons } = pending.create({
    command: req.command,
    summary: req.summary,
    requester: ctx.user,
    channel: ctx.surface.channel,
    level: req.level,
    confirmLabel: req.confirmLabel,
    confirmText: `${req.summary}?`,
    run: req.run,
  });
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
