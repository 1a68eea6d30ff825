// The embedded default chat: a REPL in the terminal. `/cluster status` works as in Slack;
// buttons become numbered choices; the bot's own alerts and reports print as they happen.
import { createInterface, type Interface } from 'node:readline';
import type { Writable, Readable } from 'node:stream';
import type { ChatAdapter, Channel, PostedMessage } from '../adapter.js';
import type { Reply } from '../reply.js';
import type { Principal } from '../../core/context.js';
import type { Router } from '../../core/router.js';
import { renderText } from './render.js';

export interface ShellOptions {
  input: Readable;
  output: Writable;
  user: Principal;
  prompt?: string;
}

export class ShellAdapter implements ChatAdapter {
  readonly name = 'shell';
  private rl: Interface | null = null;
  private buttons: string[] = [];
  private posted = 0;
  private busy: Promise<void> = Promise.resolve();
  private closed!: Promise<void>;
  private ended = false;

  constructor(
    private readonly router: Router,
    private readonly opts: ShellOptions,
  ) {}

  private write(text: string): void {
    this.opts.output.write(`${text}\n`);
  }

  /** Show a reply and remember its buttons as numbered choices. */
  private show(reply: Reply, prefix = ''): void {
    const first = this.buttons.length + 1;
    this.buttons.push(...(reply.buttons ?? []).map((b) => b.actionId));
    this.write(prefix + renderText(reply, first));
  }

  async start(): Promise<void> {
    this.rl = createInterface({ input: this.opts.input, output: this.opts.output, prompt: this.opts.prompt ?? 'clusterbot> ', terminal: false });
    this.closed = new Promise((resolve) =>
      this.rl!.once('close', () => {
        this.ended = true;
        resolve();
      }),
    );
    this.write('Type /cluster help for commands, a number to press a button, or exit.');
    this.rl.prompt();
    this.rl.on('line', (line) => {
      // One command at a time, in order, even when lines are pasted.
      this.busy = this.busy.then(() => this.onLine(line.trim())).then(() => {
        if (!this.ended) this.rl?.prompt();
      });
    });
  }

  /** Resolves when the person leaves (exit, end of input). */
  done(): Promise<void> {
    return this.closed.then(() => this.busy);
  }

  private async onLine(line: string): Promise<void> {
    if (!line) return;
    if (line === 'exit' || line === 'quit') {
      this.rl?.close();
      return;
    }
    // A terminal cannot edit what it printed: each progress edit prints only the lines of its title and
    // text that changed (its tables re-align as they grow; the final card shows them whole).
    let shown = new Set<string>();
    const progress = async (r: Reply) => {
      const lines = renderText({ title: r.title, severity: r.severity, text: r.text }).split('\n');
      const fresh = lines.filter((l) => l.trim() && !shown.has(l));
      shown = new Set(lines);
      if (fresh.length) this.write(`↻ ${fresh.join('\n  ')}`);
    };
    const surface = { platform: 'shell' as const, channel: 'terminal', progress };
    if (/^\d+$/.test(line)) {
      const id = this.buttons[Number(line) - 1];
      if (!id) {
        this.write(`No button ${line} on screen.`);
        return;
      }
      this.show(await this.router.press(id, this.opts.user, surface));
      return;
    }
    this.show(await this.router.handle(line, this.opts.user, surface));
  }

  async post(channel: Channel, reply: Reply): Promise<PostedMessage> {
    this.show(reply, `[#${channel}] `);
    return { adapter: this.name, ref: ++this.posted };
  }

  async update(message: PostedMessage, reply: Reply): Promise<void> {
    this.show(reply, `[edit of message ${String(message.ref)}] `);
  }

  async stop(): Promise<void> {
    this.rl?.close();
  }
}
