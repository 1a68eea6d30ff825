// A chat adapter that records what the bot posts and edits, for tests of alerts and reports.
import type { ChatAdapter, Channel, PostedMessage } from '../../src/chat/adapter.js';
import type { Reply } from '../../src/chat/reply.js';
import type { App } from '../../src/app.js';
import { startMonitoring } from '../../src/monitor/index.js';
import type { Monitor } from '../../src/monitor/monitor.js';

export interface Recorded {
  kind: 'post' | 'thread' | 'update';
  channel?: Channel;
  reply: Reply;
  /** The message posted (post/thread) or edited (update). */
  ref: number;
  /** For thread posts: the message replied to. */
  threadOf?: number;
  at: number;
}

export interface AlertData {
  key: string;
  rule: string;
  subject: string;
  node: string | null;
  severity: 'warn' | 'crit';
  phase: 'firing' | 'escalated' | 'reminder' | 'resolved';
  value: string;
  threshold: string;
}

export const alertOf = (e: Recorded): AlertData | undefined => (e.reply.data as { alert?: AlertData } | undefined)?.alert;

export class RecordingAdapter implements ChatAdapter {
  readonly name = 'recorder';
  readonly events: Recorded[] = [];
  private next = 0;

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async post(channel: Channel, reply: Reply, opts?: { thread?: PostedMessage }): Promise<PostedMessage> {
    const ref = ++this.next;
    const threadOf = opts?.thread ? Number(opts.thread.ref) : undefined;
    this.events.push({ kind: threadOf ? 'thread' : 'post', channel, reply, ref, threadOf, at: Date.now() });
    return { adapter: this.name, ref };
  }

  async update(message: PostedMessage, reply: Reply): Promise<void> {
    this.events.push({ kind: 'update', reply, ref: Number(message.ref), at: Date.now() });
  }

  /** Position to search from, so a test only sees what happened after it acted. */
  mark(): number {
    return this.events.length;
  }

  since(mark: number): Recorded[] {
    return this.events.slice(mark);
  }

  async waitFor(pred: (e: Recorded) => boolean, what: string, opts: { after?: number; timeoutMs?: number } = {}): Promise<Recorded> {
    const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
    for (;;) {
      const hit = this.events.slice(opts.after ?? 0).find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) {
        const seen = this.events.slice(opts.after ?? 0).map((e) => `${e.kind} ${e.channel ?? ''} ${e.reply.title}`);
        throw new Error(`no ${what} within ${opts.timeoutMs ?? 20_000} ms; saw: ${seen.join(' | ') || 'nothing'}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Predicate: an event of this kind for the alert key (and phase). */
export const isAlert = (kind: Recorded['kind'], key: string, phase?: AlertData['phase']) => (e: Recorded) =>
  e.kind === kind && alertOf(e)?.key === key && (phase === undefined || alertOf(e)?.phase === phase);

/** A recording adapter on the app's notifier and a running monitor that has finished its first loop. */
export async function watchAlerts(app: App): Promise<{ rec: RecordingAdapter; monitor: Monitor }> {
  const rec = new RecordingAdapter();
  app.notifier.add(rec);
  await startMonitoring(app);
  const monitor = app.services.monitor.running!;
  await monitor.settle();
  return { rec, monitor };
}
