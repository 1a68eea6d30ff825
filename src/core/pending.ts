// Confirmations: a single-use id carried by a button, with an expiry, a requester and a channel.
// Taking an action is synchronous (check-and-set in one tick), so two racing clicks can never
// both run it: the loser is told who handled it.
import { randomBytes } from 'node:crypto';
import type { Button, Reply } from '../chat/reply.js';
import type { Level, Principal } from './context.js';

export type PendingState = 'pending' | 'running' | 'done' | 'failed' | 'cancelled' | 'expired';

/** `Ctx` is what a confirmed action runs with (CommandContext in the app). */
export interface PendingAction<Ctx> {
  id: string;
  command: string;
  summary: string;
  requester: Principal;
  channel: string;
  createdAt: number;
  expiresAt: number;
  /** Level needed to confirm. */
  level: Level;
  state: PendingState;
  /** Set for actions confirmed by typing this code (never by a button), always by someone other than the requester. */
  typedCode?: string;
  handledBy?: { who: Principal; at: number; verb: 'confirmed' | 'cancelled' };
  run(ctx: Ctx): Promise<Reply>;
}

export interface NewPending<Ctx> {
  command: string;
  summary: string;
  requester: Principal;
  channel: string;
  level: Level;
  confirmLabel: string;
  confirmText?: string;
  typedCode?: string;
  run(ctx: Ctx): Promise<Reply>;
}

export const CONFIRM_PREFIX = 'cb:confirm:';
export const CANCEL_PREFIX = 'cb:cancel:';
/** A button whose id is `cb:cmd:/cluster failover` runs that command as the clicker (the router). */
export const COMMAND_BUTTON_PREFIX = 'cb:cmd:';

export type Take<Ctx> =
  | { ok: true; action: PendingAction<Ctx>; verb: 'confirmed' | 'cancelled' }
  | { ok: false; reason: string; action?: PendingAction<Ctx> };

export class PendingActions<Ctx> {
  private readonly actions = new Map<string, PendingAction<Ctx>>();

  constructor(
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  create(p: NewPending<Ctx>): { action: PendingAction<Ctx>; buttons: Button[] } {
    this.sweep();
    const id = randomBytes(12).toString('hex');
    const created = this.now();
    const action: PendingAction<Ctx> = {
      id,
      command: p.command,
      summary: p.summary,
      requester: p.requester,
      channel: p.channel,
      createdAt: created,
      expiresAt: created + this.ttlSeconds * 1000,
      level: p.level,
      state: 'pending',
      typedCode: p.typedCode,
      run: p.run,
    };
    this.actions.set(id, action);
    return {
      action,
      buttons: [
        { actionId: CONFIRM_PREFIX + id, label: p.confirmLabel, style: 'danger', confirmText: p.confirmText ?? p.summary },
        { actionId: CANCEL_PREFIX + id, label: 'Cancel', style: 'default' },
      ],
    };
  }

  get(id: string): PendingAction<Ctx> | undefined {
    return this.actions.get(id);
  }

  /** The action a typed code confirms (without case; the dash may be left out). */
  byCode(command: string, code: string): PendingAction<Ctx> | undefined {
    const plain = (c: string) => c.toUpperCase().replace('-', '');
    for (const a of this.actions.values()) if (a.command === command && a.typedCode && plain(a.typedCode) === plain(code)) return a;
    return undefined;
  }

  /** Claim an action for confirm or cancel. Checks that do not depend on who clicks happen here. */
  take(buttonId: string): Take<Ctx> {
    const verb = buttonId.startsWith(CONFIRM_PREFIX) ? 'confirmed' : buttonId.startsWith(CANCEL_PREFIX) ? 'cancelled' : null;
    if (!verb) return { ok: false, reason: 'this button is not one of clusterbot\'s confirmations' };
    const id = buttonId.slice(verb === 'confirmed' ? CONFIRM_PREFIX.length : CANCEL_PREFIX.length);
    const action = this.actions.get(id);
    if (!action) {
      return { ok: false, reason: 'unknown or already-used confirmation (the bot may have restarted since) — run the command again' };
    }
    if (action.state !== 'pending') {
      const h = action.handledBy;
      const by = h ? `already ${h.verb} by ${h.who.display} at ${new Date(h.at).toISOString().slice(11, 19)} UTC` : `already ${action.state}`;
      return { ok: false, reason: `${action.summary}: ${by}`, action };
    }
    if (this.now() > action.expiresAt) {
      action.state = 'expired';
      return { ok: false, reason: `this confirmation expired at ${new Date(action.expiresAt).toISOString().slice(11, 19)} UTC — run /cluster ${action.command} again`, action };
    }
    return { ok: true, action, verb };
  }

  /** Mark claimed, synchronously, right after the caller's permission checks pass. */
  claim(action: PendingAction<Ctx>, who: Principal, verb: 'confirmed' | 'cancelled'): void {
    action.state = verb === 'confirmed' ? 'running' : 'cancelled';
    action.handledBy = { who, at: this.now(), verb };
  }

  private sweep(): void {
    const cutoff = this.now() - 3600_000;
    for (const [id, a] of this.actions) if (a.expiresAt < cutoff) this.actions.delete(id);
  }
}
