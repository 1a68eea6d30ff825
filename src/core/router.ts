// The router: "/cluster …" text or a button click in, a Reply out. Permissions, argument
// validation, confirmations and the audit trail live here, so every adapter obeys the same rules.
import { errorReply, type Reply } from '../chat/reply.js';
import { errorLine, isUserError } from '../errors.js';
import { aLevel, atLeast, type Command } from './command.js';
import type { AppServices, CommandContext } from './command.js';
import type { Principal, Surface } from './context.js';
import { parseArgs, printable, splitCommandLine, suggest } from './parse.js';
import { levelOf } from './permissions.js';

import { COMMAND_BUTTON_PREFIX } from './pending.js';

export { COMMAND_BUTTON_PREFIX };

export class Router {
  private readonly byName = new Map<string, Command>();

  constructor(
    readonly services: AppServices,
    readonly commands: Command[],
  ) {
    for (const c of commands) this.byName.set(c.name, c);
  }

  find(name: string): Command | undefined {
    return this.byName.get(name);
  }

  async handle(text: string, who: Principal, surface: Surface): Promise<Reply> {
    const started = performance.now();
    const tokens = splitCommandLine(text);
    const sub = (tokens.shift() ?? 'help').toLowerCase();
    const cmd = this.byName.get(sub);
    const base = { user: who.id, platform: who.platform, channel: surface.channel, command: printable(sub) };
    if (!cmd) {
      const close = suggest(sub, [...this.byName.keys()]);
      const hint = close.length ? `did you mean ${close.map((c) => `/cluster ${c}`).join(' or ')}?` : 'see /cluster help';
      this.services.audit.record({ ...base, kind: 'refusal', outcome: 'unknown command' });
      return errorReply(`Unknown subcommand "${printable(sub)}" — ${hint}`, 'Unknown command');
    }
    const level = levelOf(this.services.config, who);
    if (!atLeast(level, cmd.level)) {
      this.services.audit.record({ ...base, kind: 'refusal', outcome: 'forbidden', detail: { level, needs: cmd.level } });
      return errorReply(
        `${who.display} ${level ? `is ${aLevel(level)}` : 'has no clusterbot role'}; /cluster ${cmd.name} needs ${cmd.level} — ask an admin to add you to ${cmd.level.toUpperCase()}S`,
        'Not allowed',
      );
    }
    let args: Record<string, unknown>;
    try {
      args = parseArgs(cmd, tokens, this.services.config);
    } catch (e) {
      this.services.audit.record({ ...base, kind: 'command', outcome: 'bad input', detail: errorLine(e) });
      return errorReply(errorLine(e), 'Invalid arguments');
    }
    const ctx = this.context(who, level!, surface);
    const reply = await this.run(ctx, () => cmd.run(ctx, args as never));
    this.services.audit.record({
      ...base,
      kind: 'command',
      args,
      outcome: reply.failed ? 'failed' : 'ok',
      detail: reply.failed ? reply.text : undefined,
      ms: Math.round(performance.now() - started),
    });
    return reply;
  }

  /** A button click. Confirm buttons run the pending action once; everything else is refused and audited. */
  async press(buttonId: string, who: Principal, surface: Surface): Promise<Reply> {
    // "Start failover…" on an alert: a button that runs a command as the person who clicks.
    if (buttonId.startsWith(COMMAND_BUTTON_PREFIX)) return this.handle(buttonId.slice(COMMAND_BUTTON_PREFIX.length), who, surface);
    const { pending, audit, config } = this.services;
    const taken = pending.take(buttonId);
    const base = { user: who.id, platform: who.platform, channel: surface.channel };
    if (!taken.ok) {
      audit.record({ ...base, kind: 'refusal', command: taken.action?.command, outcome: 'stale confirmation', detail: taken.reason });
      return errorReply(taken.reason, 'Not done');
    }
    const { action, verb } = taken;
    const level = levelOf(config, who);
    const refuse = (reason: string) => {
      audit.record({ ...base, kind: 'refusal', command: action.command, outcome: 'forbidden', detail: reason });
      return errorReply(reason, 'Not allowed');
    };
    if (verb === 'cancelled') {
      if (who.id !== action.requester.id && !atLeast(level, action.level)) return refuse(`only ${action.requester.display} or ${aLevel(action.level)} can cancel this`);
    } else {
      if (!atLeast(level, action.level)) {
        return refuse(`${who.display} ${level ? `is ${aLevel(level)}` : 'has no clusterbot role'}; only ${aLevel(action.level)} can confirm: ${action.summary}`);
      }
      if (action.typedCode) {
        return refuse(`${action.summary} is confirmed by typing, not by a button: another ${action.level} types /cluster ${action.command} confirm <code shown on the card>`);
      }
      if (config.REQUIRE_SECOND_APPROVER && who.id === action.requester.id) {
        return refuse(`two-person rule (REQUIRE_SECOND_APPROVER): ${who.display} asked for this, so another ${action.level} must confirm it`);
      }
    }
    pending.claim(action, who, verb);
    audit.record({ ...base, kind: 'action', command: action.command, outcome: verb, detail: { action: action.id, summary: action.summary } });
    if (verb === 'cancelled') {
      return { title: `Cancelled: ${action.summary}`, severity: 'info', text: `Cancelled by ${who.display}. Nothing was changed.` };
    }
    const ctx = this.context(who, level!, surface);
    const reply = await this.run(ctx, () => action.run(ctx));
    action.state = reply.failed ? 'failed' : 'done';
    audit.record({ ...base, kind: 'action', command: action.command, outcome: reply.failed ? 'failed' : 'done', detail: reply.failed ? reply.text : reply.title });
    return reply;
  }

  private context(who: Principal, level: NonNullable<ReturnType<typeof levelOf>>, surface: Surface): CommandContext {
    const masker = this.services.masker;
    return {
      services: this.services,
      backend: this.services.backend,
      user: { ...who, level },
      surface,
      progress: async (r) => {
        await surface.progress?.(masker.maskDeep(r));
      },
    };
  }

  private async run(ctx: CommandContext, fn: () => Promise<Reply>): Promise<Reply> {
    try {
      return this.services.masker.maskDeep(await fn());
    } catch (e) {
      if (!isUserError(e)) this.services.log.error({ err: e }, 'command failed');
      const line = this.services.masker.mask(errorLine(e));
      return errorReply(isUserError(e) ? line : `${line} — details are in the bot log`, 'Failed');
    }
  }
}
