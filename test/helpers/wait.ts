// Waiting in tests: poll for the state the product promises, with a deadline, and on timeout say
// what was last seen (a value or an error), never just "timed out".

export interface WaitOptions {
  timeoutMs?: number;
  everyMs?: number;
  /** Describes what was seen, for a probe whose own value says nothing (a boolean). */
  seen?: () => string;
}

/** Polls `probe` until `ok(value)` holds; returns that value, or throws naming the last value seen. */
export async function eventually<T>(what: string, probe: () => T | Promise<T>, ok: (v: T) => boolean, opts: WaitOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  let last: { value: T } | { error: unknown } | null = null;
  for (;;) {
    try {
      const value = await probe();
      if (ok(value)) return value;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; last saw: ${opts.seen?.() || seen(last)}`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 100));
  }
}

/** Polls `fn` until it returns something truthy, and returns it. */
export function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 180_000, everyMs = 500): Promise<T> {
  return eventually(what, fn, Boolean, { timeoutMs, everyMs }) as Promise<T>;
}

/** `until` with the deadline first, polling every 250 ms (the Patroni tests' form). */
export function within<T>(what: string, timeoutMs: number, fn: () => Promise<T | null | undefined | false>, seen?: () => string): Promise<T> {
  return eventually(what, fn, Boolean, { timeoutMs, everyMs: 250, seen }) as Promise<T>;
}

function seen(last: { value: unknown } | { error: unknown } | null): string {
  if (last === null) return 'nothing (the first probe had not returned)';
  if ('error' in last) return `an error: ${last.error instanceof Error ? last.error.message : String(last.error)}`;
  const v = last.value;
  const text = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return text.length > 600 ? `…${text.slice(-600)}` : text;
}
