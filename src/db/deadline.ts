// One deadline for a whole round of probes: every node is asked at once, so a hung node costs the
// deadline once instead of a connect timeout plus a query timeout per query.

/** How NoAnswerError's message starts; a probe keeps only the message, so this is how it is recognised. */
const NO_ANSWER = 'no answer (timed out after';

/** A node (or service) that did not answer before the round's deadline. */
export class NoAnswerError extends Error {
  readonly code = 'NO_ANSWER';

  constructor(readonly ms: number) {
    super(`${NO_ANSWER} ${ms} ms)`);
  }
}

/** A probe's error text that says the node only missed the round's deadline (NoAnswerError's). */
export const missedDeadline = (error: string | null) => error?.startsWith(NO_ANSWER) ?? false;

export class Deadline {
  private readonly end: number;

  constructor(readonly ms: number) {
    this.end = performance.now() + ms;
  }

  remaining(): number {
    return Math.max(0, this.end - performance.now());
  }

  /** `work`, or a NoAnswerError once the deadline passes first (`onTimeout` then lets go of what `work` holds). */
  race<T>(work: Promise<T>, onTimeout?: () => void): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout?.();
        reject(new NoAnswerError(this.ms));
      }, this.remaining());
    });
    return Promise.race([work, expired]).finally(() => clearTimeout(timer));
  }

  /** `work`'s value, or `fallback` when it fails or the deadline passes first. */
  settle<T, F>(work: Promise<T>, fallback: F): Promise<T | F> {
    return this.race(work).catch(() => fallback);
  }
}
