// Every step of a failover, switchover or rejoin with its duration: shown on the card as it runs,
// logged as { step, ms } and returned for the reply's data (the benchmark reads them).
import type { Logger } from '../../core/logger.js';
import { errorLine } from '../../errors.js';
import { observeFailoverStep } from '../../monitor/failover-steps.js';

export interface StepRecord {
  step: string;
  ms: number;
  ok: boolean;
  detail: string;
}

export type StepListener = (done: StepRecord[], running: string | null) => Promise<void>;

/** Told before a step starts and after it ends (the operation journal): synchronous, so it is on disk first. */
export interface StepObserver {
  started(step: string): void;
  finished(record: StepRecord): void;
  /** Facts the operation decided (target, old primary…), kept with the steps. */
  remember(facts: object): void;
  /** Awaited after a step succeeded, before the next one. */
  between(step: string): Promise<void>;
}

export class Steps {
  readonly done: StepRecord[] = [];
  private readonly t0 = performance.now();

  constructor(
    private readonly op: string,
    private readonly log: Logger,
    private readonly listener: StepListener = async () => undefined,
    private readonly observer?: StepObserver,
  ) {}

  /** Record what the operation decided, for a bot that restarts in the middle of it. */
  remember(facts: object): void {
    this.observer?.remember(facts);
  }

  /**
   * Run one step; `describe` turns its result into the line a person reads, `ok` says whether that
   * result is a success (a step can end without a throw and still not reach its goal). A throw is
   * recorded and rethrown.
   */
  async run<T>(step: string, fn: () => Promise<T>, describe: (v: T) => string = () => 'done', ok: (v: T) => boolean = () => true): Promise<T> {
    this.observer?.started(step);
    await this.notify(step);
    const value = await this.timed(step, fn, describe, ok);
    await this.observer?.between(step);
    return value;
  }

  private async timed<T>(step: string, fn: () => Promise<T>, describe: (v: T) => string, ok: (v: T) => boolean): Promise<T> {
    const t = performance.now();
    try {
      const value = await fn();
      this.record(step, t, ok(value), describe(value));
      return value;
    } catch (e) {
      this.record(step, t, false, errorLine(e));
      throw e;
    } finally {
      await this.notify(null);
    }
  }

  get totalMs(): number {
    return Math.round(performance.now() - this.t0);
  }

  private record(step: string, t: number, ok: boolean, detail: string): void {
    const ms = Math.round(performance.now() - t);
    this.done.push({ step, ms, ok, detail });
    this.observer?.finished({ step, ms, ok, detail });
    this.log.info({ op: this.op, step, ms, ok }, `${this.op} step`);
    // Prometheus: clusterbot's failover step durations (a plain sink; no monitor needed).
    observeFailoverStep(`${this.op}: ${step}`, ms);
  }

  private async notify(running: string | null): Promise<void> {
    // A card that cannot be edited must never stop a failover half-way.
    await this.listener(this.done, running).catch((err: unknown) => this.log.warn({ err: errorLine(err) }, 'progress update failed'));
  }
}
