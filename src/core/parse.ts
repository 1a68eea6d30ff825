// From "/cluster stop readonly" to a command and validated arguments, or a one-line UserError.
import type { Config } from '../config.js';
import { UserError } from '../errors.js';
import { usage, type ArgSpecs, type Command } from './command.js';

/** Split on whitespace, honouring "double" and 'single' quotes. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) tokens.push(m[1] ?? m[2] ?? m[3]);
  return tokens;
}

/** Accepts "/cluster status", "cluster status" and "status". Returns [sub, ...rest]. */
export function splitCommandLine(text: string): string[] {
  const tokens = tokenize(text.trim());
  if (tokens[0] === '/cluster' || tokens[0] === 'cluster') tokens.shift();
  return tokens;
}

export function parseArgs(cmd: Command, tokens: string[], config: Config): Record<string, unknown> {
  const specs: ArgSpecs = cmd.args;
  const out: Record<string, unknown> = {};
  const flags = Object.entries(specs).filter(([, s]) => s.kind === 'flag');
  const positional = Object.entries(specs).filter(([, s]) => s.kind !== 'flag');
  const rest: string[] = [];
  for (const t of tokens) {
    const flag = flags.find(([name]) => name === t.toLowerCase());
    if (flag) out[flag[0]] = true;
    else rest.push(t);
  }
  if (rest.length > positional.length) {
    throw new UserError(`too many arguments for ${cmd.name}: "${rest.slice(positional.length).join(' ')}"`, `usage: ${usage(cmd)}`);
  }
  for (const [i, [name, spec]] of positional.entries()) {
    const token = rest[i];
    if (token === undefined && spec.required) {
      throw new UserError(`${cmd.name} needs <${name}> (${spec.description})`, `usage: ${usage(cmd)}${nodeHint(spec.kind, config)}`);
    }
    const parsed = spec.schema.safeParse(token);
    if (!parsed.success) {
      const shown = token === undefined ? '' : `"${printable(token)}" `;
      const accepted = spec.choices ? ` — accepted: ${spec.choices.join(', ')}` : nodeHint(spec.kind, config);
      // zod's own wording for an enum ("Invalid option: expected one of …") would repeat the list.
      const why = spec.choices ? 'is not one of the choices' : (parsed.error.issues[0]?.message ?? 'is not valid');
      throw new UserError(`${name} ${shown}${why}${accepted}`, `usage: ${usage(cmd)}`);
    }
    if (spec.kind === 'node' && parsed.data !== undefined && !config.nodes.some((n) => n.name === parsed.data)) {
      throw new UserError(`unknown node "${printable(token)}"`, `nodes are: ${config.nodes.map((n) => n.name).join(', ')}`, 'unknown_node');
    }
    out[name] = parsed.data;
  }
  for (const [name, spec] of flags) if (out[name] === undefined) out[name] = spec.schema.parse(undefined);
  return out;
}

function nodeHint(kind: string, config: Config): string {
  return kind === 'node' ? ` — nodes are: ${config.nodes.map((n) => n.name).join(', ')}` : '';
}

/** Never echo control characters or a wall of text back into chat. */
export function printable(s: string): string {
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}

/** Closest command names, for "did you mean". */
export function suggest(word: string, names: string[]): string[] {
  const scored = names.map((n) => ({ n, d: distance(word.toLowerCase(), n) }));
  const close = scored.filter((s) => s.d <= Math.max(2, Math.floor(s.n.length / 3)) || s.n.startsWith(word.toLowerCase()));
  return close.sort((a, b) => a.d - b.d).slice(0, 3).map((s) => s.n);
}

function distance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return dp[a.length][b.length];
}
