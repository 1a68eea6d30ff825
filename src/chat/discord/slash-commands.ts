// `/cluster` as a Discord application command, generated from the same ArgSpecs the router
// parses: one subcommand per Command, typed options, node names as choices. And the way back:
// an interaction's options → the "/cluster <sub> <args…>" text the router understands.
import {
  ApplicationCommandOptionType as Opt,
  ApplicationCommandType,
  type APIApplicationCommandBasicOption,
  type APIApplicationCommandSubcommandOption,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import type { Config } from '../../config.js';
import type { ArgSpec, Command } from '../../core/command.js';
import { UserError } from '../../errors.js';

export const ROOT_COMMAND = 'cluster';
/** Discord's limits: 25 subcommands, 25 options and 25 choices each, 100-character descriptions. */
const MAX = 25;
/** When there are more commands than subcommand slots, the rest are reached through `/cluster run`. */
export const OVERFLOW_SUBCOMMAND = 'run';

type CommandDefinition = RESTPostAPIChatInputApplicationCommandsJSONBody;

const clip = (s: string, n = 100) => (s.length > n ? `${s.slice(0, n - 1)}…` : s) || '-';

/** Option names must be lowercase: `maxLag` → `max_lag`. */
export const optionName = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().slice(0, 32);

function option(key: string, spec: ArgSpec, config: Config): APIApplicationCommandBasicOption {
  const base = { name: optionName(key), description: clip(spec.description), required: spec.required };
  const choices = (values: readonly string[]) => values.slice(0, MAX).map((v) => ({ name: v, value: v }));
  switch (spec.kind) {
    case 'flag':
      return { ...base, type: Opt.Boolean };
    case 'int':
      return { ...base, type: Opt.Integer };
    case 'node':
      return { ...base, type: Opt.String, choices: choices(config.nodes.map((n) => n.name)) };
    case 'enum':
      return { ...base, type: Opt.String, choices: choices(spec.choices ?? []) };
    default:
      return { ...base, type: Opt.String };
  }
}

function subcommand(cmd: Command, config: Config): APIApplicationCommandSubcommandOption {
  // Discord wants required options first; the router reads positions by key, so order here is free.
  const entries = Object.entries(cmd.args).sort(([, a], [, b]) => Number(b.required) - Number(a.required));
  return {
    type: Opt.Subcommand,
    name: cmd.name,
    description: clip(cmd.summary),
    options: entries.slice(0, MAX).map(([key, spec]) => option(key, spec, config)),
  };
}

/** The one `/cluster` command, with every Command as a subcommand (overflow through `/cluster run`). */
export function clusterCommand(commands: Command[], config: Config): CommandDefinition {
  const direct = commands.length > MAX ? commands.slice(0, MAX - 1) : commands;
  const options: APIApplicationCommandSubcommandOption[] = direct.map((c) => subcommand(c, config));
  if (commands.length > MAX) {
    options.push({
      type: Opt.Subcommand,
      name: OVERFLOW_SUBCOMMAND,
      description: clip(`Any other subcommand: ${commands.slice(MAX - 1).map((c) => c.name).join(', ')}`),
      options: [{ type: Opt.String, name: 'command', description: 'e.g. "backup verify" (as after /cluster in the terminal)', required: true }],
    });
  }
  return { name: ROOT_COMMAND, type: ApplicationCommandType.ChatInput, description: 'Operate the PostgreSQL cluster', options };
}

/** What matters for equality: Discord echoes definitions back with ids, versions and defaults added. */
export function normalizeDefinitions(defs: unknown[]): unknown {
  const norm = (o: Record<string, any>): unknown => ({
    name: o.name,
    type: o.type ?? 1,
    description: o.description ?? '',
    required: o.required ?? false,
    choices: (o.choices ?? []).map((c: { name: string; value: unknown }) => [c.name, c.value]),
    options: (o.options ?? []).map(norm),
  });
  return (defs as Record<string, any>[]).map(norm).sort((a: any, b: any) => String(a.name).localeCompare(b.name));
}

export function sameDefinitions(registered: unknown[], wanted: unknown[]): boolean {
  return JSON.stringify(normalizeDefinitions(registered)) === JSON.stringify(normalizeDefinitions(wanted));
}

export interface ReceivedOption {
  name: string;
  value?: string | number | boolean;
}

/** Quote a value for the router's tokenizer. */
function quote(v: string): string {
  if (v !== '' && !/[\s"']/.test(v)) return v;
  if (!v.includes('"')) return `"${v}"`;
  if (!v.includes("'")) return `'${v}'`;
  throw new UserError('a value contains both kinds of quotes', 'remove the quotes and try again');
}

/** Options of one subcommand → "/cluster <sub> <args…>" in the command's positional order. */
export function commandText(sub: string, received: readonly ReceivedOption[], commands: Command[]): string {
  if (sub === OVERFLOW_SUBCOMMAND && !commands.some((c) => c.name === sub)) {
    return `/cluster ${String(received.find((o) => o.name === 'command')?.value ?? '')}`;
  }
  const cmd = commands.find((c) => c.name === sub);
  if (!cmd) return `/cluster ${sub}`;
  const value = (key: string) => received.find((o) => o.name === optionName(key))?.value;
  const words: string[] = [];
  const positional = Object.entries(cmd.args).filter(([, s]) => s.kind !== 'flag');
  const lastGiven = positional.reduce((last, [key], i) => (value(key) !== undefined ? i : last), -1);
  for (const [i, [key, spec]] of positional.entries()) {
    if (i > lastGiven) break;
    const v = value(key);
    if (v !== undefined) {
      words.push(quote(String(v)));
      continue;
    }
    // A gap before a later option: fill it with the default, or ask for it.
    const fallback = spec.schema.safeParse(undefined);
    if (!fallback.success || fallback.data === undefined) {
      const later = positional[lastGiven][0];
      throw new UserError(`${sub}: give ${optionName(key)} too when you give ${optionName(later)}`, `usage: /cluster ${sub} with ${optionName(key)} set`);
    }
    words.push(quote(String(fallback.data)));
  }
  for (const [key, spec] of Object.entries(cmd.args)) if (spec.kind === 'flag' && value(key) === true) words.push(key);
  return ['/cluster', sub, ...words].join(' ');
}
