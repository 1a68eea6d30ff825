// One interaction's answer over time: acknowledge (defer, or update the card), edit in place as
// progress arrives, then the final reply. Edits are chained so a late progress line can never
// overwrite the result. Errors and refusals are ephemeral: only the person who asked sees them.
import { MessageFlags, type ButtonInteraction, type ChatInputCommandInteraction, type InteractionReplyOptions } from 'discord.js';
import type { APIActionRowComponent, APIComponentInMessageActionRow, APIEmbed } from 'discord-api-types/v10';
import type { Reply } from '../reply.js';
import { disableComponents, renderMessage } from './render.js';

type Rows = APIActionRowComponent<APIComponentInMessageActionRow>[];

function payload(r: Reply, rows?: Rows) {
  const m = renderMessage(r);
  return {
    embeds: m.embeds,
    components: r.buttons?.length || !rows ? m.components : rows,
    files: m.files.map((f) => ({ attachment: f.path, name: f.name })),
  };
}

export type Answered = 'reply' | 'deferred' | 'updated' | 'ephemeral' | 'disabled';

abstract class Responder {
  protected chain: Promise<unknown> = Promise.resolve();
  protected acked = false;
  protected done = false;
  private latest: Reply | null = null;
  /** How the interaction was finally answered, for logs. */
  readonly steps: Answered[] = [];

  protected enqueue(step: () => Promise<unknown>): Promise<void> {
    const next = this.chain.then(step);
    this.chain = next.catch(() => undefined);
    return next.then(() => undefined);
  }

  /** Acknowledge now (before Discord's 3-second deadline) when the answer is not ready yet. */
  ack(): Promise<void> {
    return this.enqueue(async () => {
      if (this.acked || this.done) return;
      await this.acknowledge();
      this.acked = true;
    });
  }

  /** Progress edits are coalesced: while one is on its way, only the newest waiting one is sent next. */
  progress(r: Reply): Promise<void> {
    const queued = this.latest !== null;
    this.latest = r;
    if (queued) return this.chain.then(() => undefined);
    return this.enqueue(async () => {
      const newest = this.latest;
      this.latest = null;
      if (this.done || !newest) return;
      if (!this.acked) {
        await this.acknowledge(newest);
        this.acked = true;
        return;
      }
      await this.edit(newest);
    });
  }

  finish(r: Reply): Promise<void> {
    return this.enqueue(async () => {
      if (this.done) return;
      this.done = true;
      await this.final(r);
    });
  }

  protected abstract acknowledge(progress?: Reply): Promise<void>;
  protected abstract edit(r: Reply): Promise<void>;
  protected abstract final(r: Reply): Promise<void>;
}

/** A slash command (or a command button): the answer is a new message in the channel. */
export class NewMessageResponder extends Responder {
  constructor(private readonly i: ChatInputCommandInteraction | ButtonInteraction) {
    super();
  }

  protected async acknowledge(progress?: Reply): Promise<void> {
    await this.i.deferReply();
    this.steps.push('deferred');
    if (progress) await this.edit(progress);
  }

  protected async edit(r: Reply): Promise<void> {
    await this.i.editReply(payload(r));
  }

  protected async final(r: Reply): Promise<void> {
    if (r.ephemeral) {
      // A public "thinking…" cannot turn private: remove it and answer privately instead.
      if (this.acked) await this.i.deleteReply().catch(() => undefined);
      const opts: InteractionReplyOptions = { ...payload(r), flags: MessageFlags.Ephemeral };
      await (this.acked ? this.i.followUp(opts) : this.i.reply(opts));
      this.steps.push('ephemeral');
      return;
    }
    if (this.acked) await this.i.editReply(payload(r));
    else await this.i.reply(payload(r));
    this.steps.push(this.acked ? 'updated' : 'reply');
  }
}

/** A confirmation card's button: the card itself is updated in place, its buttons disabled. */
export class CardResponder extends Responder {
  private readonly disabled: Rows;

  constructor(
    private readonly i: ButtonInteraction,
    private readonly note: string,
    /** The confirmation is expired, unknown or already handled: a refusal also disables the card ('card': and notes why on it). */
    private readonly stale: false | 'buttons' | 'card' = false,
  ) {
    super();
    this.disabled = disableComponents(i.message.components.map((c) => c.toJSON()));
  }

  private placeholder(): { embeds: APIEmbed[]; components: Rows } {
    const embed = this.i.message.embeds[0]?.toJSON() ?? { title: 'clusterbot' };
    return { embeds: [{ ...embed, footer: { text: `⏳ ${this.note} — working…` } }], components: this.disabled };
  }

  protected async acknowledge(progress?: Reply): Promise<void> {
    await this.i.update(progress ? payload(progress, this.disabled) : this.placeholder());
    this.steps.push('deferred');
  }

  protected async edit(r: Reply): Promise<void> {
    await this.i.editReply(payload(r, this.disabled));
  }

  protected async final(r: Reply): Promise<void> {
    if (!this.acked && r.ephemeral && this.stale) {
      // A dead confirmation: everyone sees its buttons disabled and why; the clicker also gets the line privately.
      const embeds = this.i.message.embeds.map((e, n) => (n === 0 ? { ...e.toJSON(), footer: { text: `⌛ ${r.text ?? r.title}` } } : e.toJSON()));
      await this.i.update(this.stale === 'card' ? { embeds, components: this.disabled } : { components: this.disabled });
      this.steps.push('disabled');
      await this.i.followUp({ ...payload(r, []), flags: MessageFlags.Ephemeral });
      this.steps.push('ephemeral');
      return;
    }
    if (!this.acked && r.ephemeral) {
      // A refusal: the card stays as it is, with its buttons live for someone allowed.
      await this.i.reply({ ...payload(r, []), flags: MessageFlags.Ephemeral });
      this.steps.push('ephemeral');
      return;
    }
    const withNote = { ...r, context: [r.context, this.note].filter(Boolean).join(' · ') };
    if (this.acked) await this.i.editReply(payload(withNote, this.disabled));
    else await this.i.update(payload(withNote, this.disabled));
    this.steps.push('updated');
  }
}
