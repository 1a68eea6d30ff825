// A pure reading of an operation's result, shared by the audit (operation.ts) and the cards (src/present/).

/** What the result says it reached: "done" only when every guarantee it names was observed. */
export const outcomeOf = (r: { ok: boolean; warnings: string[] }): 'done' | 'done with warnings' | 'failed' =>
  !r.ok ? 'failed' : r.warnings.length ? 'done with warnings' : 'done';
