// Lag samples for /cluster lag: a bounded ring of per-replica lag, appended to a JSONL file so the
// history survives restarts (the file is rewritten from memory when it grows past its bound).
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ClusterSnapshot } from '../cluster/inspect.js';
import type { Logger } from '../core/logger.js';
import { appendPrivate, mkdirPrivate, replacePrivate } from '../core/private-files.js';

export interface LagSample {
  /** Epoch milliseconds. */
  t: number;
  primary: string | null;
  /** Per replica that answered: [lag bytes, replay delay seconds]. */
  lag: Record<string, [number | null, number | null]>;
}

/** At most this many samples are kept; a long history is sampled more sparsely. */
export const MAX_SAMPLES = 20_000;

export function sampleOf(s: ClusterSnapshot): LagSample {
  const lag: LagSample['lag'] = {};
  for (const n of s.nodes) if (n.role === 'replica' && n.up) lag[n.name] = [n.lagBytes, n.lagSeconds];
  return { t: Date.parse(s.takenAt), primary: s.primary, lag };
}

export class LagHistory {
  private samples: LagSample[] = [];
  private lines = 0;
  readonly capacity: number;
  /** Minimum spacing between kept samples (ms). */
  readonly stepMs: number;

  constructor(
    private readonly file: string,
    readonly hours: number,
    intervalSeconds: number,
    private readonly log?: Logger,
  ) {
    const span = hours * 3_600_000;
    this.stepMs = Math.max(intervalSeconds * 1000 * 0.9, span / MAX_SAMPLES);
    this.capacity = Math.min(MAX_SAMPLES, Math.ceil(span / this.stepMs) + 1);
    this.load();
  }

  private load(): void {
    if (!existsSync(this.file)) return;
    const cutoff = Date.now() - this.hours * 3_600_000;
    const out: LagSample[] = [];
    const text = readFileSync(this.file, 'utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      this.lines++;
      try {
        const s = JSON.parse(line) as LagSample;
        if (typeof s.t === 'number' && s.t >= cutoff && s.lag && typeof s.lag === 'object') out.push(s);
      } catch {
        // A torn last line after a crash: skip it.
      }
    }
    this.samples = out.slice(-this.capacity);
  }

  /** Keep a sample (if far enough from the previous one) and persist it. */
  add(sample: LagSample): boolean {
    const last = this.samples.at(-1);
    if (last && sample.t - last.t < this.stepMs) return false;
    this.samples.push(sample);
    if (this.samples.length > this.capacity) this.samples.splice(0, this.samples.length - this.capacity);
    try {
      if (this.lines >= this.capacity * 1.25) this.rewrite();
      else {
        mkdirPrivate(dirname(this.file));
        appendPrivate(this.file, `${JSON.stringify(sample)}\n`);
        this.lines++;
      }
    } catch (err) {
      this.log?.warn({ err }, 'could not persist a lag sample');
    }
    return true;
  }

  private rewrite(): void {
    replacePrivate(this.file, this.samples.map((s) => `${JSON.stringify(s)}\n`).join(''));
    this.lines = this.samples.length;
  }

  /** Samples at or after `from` (epoch ms), oldest first. */
  since(from: number): LagSample[] {
    let i = this.samples.length;
    while (i > 0 && this.samples[i - 1].t >= from) i--;
    return this.samples.slice(i);
  }

  get size(): number {
    return this.samples.length;
  }
}
