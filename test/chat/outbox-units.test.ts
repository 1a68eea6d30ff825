// The shared persistent outbox with a scripted platform: order through failures, a refused
// message given up without blocking the rest, a queue that survives a reopen (as after kill -9),
// a torn last journal line, queued ids mapped to real ids for later edits, OUTBOX_MAX overflow.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { PersistentOutbox, type Delivery, type QueuedJob } from '../../src/chat/outbox/persistent-outbox.js';

interface P {
  text: string;
  target?: string;
}

const dir = mkdtempSync(join(tmpdir(), 'clusterbot-outbox-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });

/** A platform that records what it got; `down` makes every call fail with a retryable error. */
function platform() {
  const seen: Array<{ kind: string; text: string; target?: string | null; retry: boolean }> = [];
  let n = 0;
  const p = {
    seen,
    down: false,
    refuse: new Set<string>(),
    delivery: {
      async deliver(job: QueuedJob<P>, ctx) {
        if (p.down) throw Object.assign(new Error('503'), { retryable: true });
        if (p.refuse.has(job.payload.text)) throw new Error('channel_not_found');
        seen.push({ kind: job.kind, text: job.payload.text, target: job.payload.target ? ctx.remoteOf(job.payload.target) : undefined, retry: ctx.retry });
        return job.kind === 'post' ? `M${++n}` : undefined;
      },
      retryDelay: (err: unknown) => ((err as { retryable?: boolean }).retryable ? 20 : null),
      droppedNotice: (_c: string, count: number) => ({ kind: 'post', payload: { text: `${count} dropped` } }),
      describe: String,
    } satisfies Delivery<P>,
  };
  return p;
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('persistent chat outbox', () => {
  it('delivers in order through failures; a refused message is dropped without blocking the rest', async () => {
    const p = platform();
    const box = new PersistentOutbox<P>(p.delivery, log, { file: join(dir, 'a.jsonl'), max: 100, name: 't' });
    p.down = true;
    box.enqueue('post', 'C', { text: 'a' });
    p.refuse.add('b');
    box.enqueue('post', 'C', { text: 'b' });
    box.enqueue('post', 'C', { text: 'c' });
    await until('failed attempts', () => box.stats.failedAttempts >= 2);
    expect(p.seen).toEqual([]);
    p.down = false;
    await box.idle();
    expect(p.seen.map((s) => s.text)).toEqual(['a', 'c']);
    expect(p.seen[0].retry).toBe(true); // its first attempt may have landed: the platform is told to look
    expect(box.stats.dropped).toBe(1);
    await box.stop();
  });

  it('keeps the queue across a reopen (a killed bot): same order, edits of queued posts reach the real ids, journal compacted', async () => {
    const file = join(dir, 'b.jsonl');
    const p1 = platform();
    p1.down = true;
    const first = new PersistentOutbox<P>(p1.delivery, log, { file, max: 100, name: 't' });
    const one = first.enqueue('post', 'C', { text: 'one' });
    first.enqueue('post', 'C', { text: 'two' });
    first.enqueue('update', 'C', { text: 'one (edited)', target: one });
    first.enqueue('post', 'C', { text: 'three' });
    // No stop(): the process "dies" here. A torn half-line at the end must not lose anything.
    appendFileSync(file, '{"t":"add","job":{"id":"q-torn');
    const p2 = platform();
    const second = new PersistentOutbox<P>(p2.delivery, log, { file, max: 100, name: 't' });
    expect(second.pending).toBe(4);
    second.resume();
    await second.idle();
    expect(p2.seen.map((s) => [s.kind, s.text, s.target])).toEqual([
      ['post', 'one', undefined],
      ['post', 'two', undefined],
      ['update', 'one (edited)', 'M1'],
      ['post', 'three', undefined],
    ]);
    // Drained: the journal holds only the id map, so a later edit of "one" still finds M1.
    expect(readFileSync(file, 'utf8')).not.toMatch(/"t":"add"/);
    await second.stop();
    const p3 = platform();
    const third = new PersistentOutbox<P>(p3.delivery, log, { file, max: 100, name: 't' });
    third.enqueue('update', 'C', { text: 'one (resolved)', target: one });
    await third.idle();
    expect(p3.seen).toEqual([{ kind: 'update', text: 'one (resolved)', target: 'M1', retry: false }]);
    await third.stop();
    await first.stop(0);
  });

  it('a full disk under CLUSTERBOT_HOME: the journal cannot be written, the message is still delivered from memory', async () => {
    const home = join(dir, 'full');
    mkdirSync(home);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'clusterbot-full-home', home]);
    try {
      const p = platform();
      const lines: string[] = [];
      const captured = pino({ level: 'error' }, { write: (l: string) => lines.push(l) });
      const box = new PersistentOutbox<P>(p.delivery, captured, { file: join(home, 'd.jsonl'), max: 100, name: 't' });
      try {
        writeFileSync(join(home, 'filler'), Buffer.alloc(64 * 1024));
      } catch {
        // ENOSPC once the tmpfs is full: exactly what we want.
      }
      box.enqueue('post', 'C', { text: 'alert while the disk is full' });
      await box.idle();
      expect(p.seen.map((x) => x.text)).toEqual(['alert while the disk is full']);
      expect(lines.join('')).toMatch(/cannot write the journal.*ENOSPC|ENOSPC.*cannot write the journal/);
      await box.stop();
    } finally {
      execFileSync('umount', [home]);
    }
  });

  it('over OUTBOX_MAX keeps the newest critical messages, drops the oldest others first, and says how many in the channel first', async () => {
    const p = platform();
    p.down = true;
    const box = new PersistentOutbox<P>(p.delivery, log, { file: join(dir, 'c.jsonl'), max: 3, name: 't' });
    box.enqueue('post', 'C', { text: 'crit 1' }, true);
    await until('the head in flight', () => box.stats.failedAttempts >= 1);
    box.enqueue('post', 'C', { text: 'info 1' });
    box.enqueue('post', 'C', { text: 'crit 2' }, true);
    box.enqueue('post', 'C', { text: 'info 2' });
    box.enqueue('post', 'C', { text: 'crit 3' }, true);
    box.enqueue('post', 'C', { text: 'crit 4' }, true);
    p.down = false;
    await box.idle();
    // crit 1 was already being sent; info 1 and info 2 went first, then the oldest queued critical (crit 2).
    expect(p.seen.map((s) => s.text)).toEqual(['crit 1', '3 dropped', 'crit 3', 'crit 4']);
    expect(box.stats.dropped).toBe(3);
    await box.stop();
  });
});
