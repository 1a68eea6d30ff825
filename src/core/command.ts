// What a /cluster subcommand is: name, zod-backed positional arguments, level, handler → Reply.
// Adapters (shell, Slack, Discord) never see a handler; they go through the Router.
// A command's context names every service it may use (AppServices, built by src/app.ts).
import { z } from 'zod';
import { NODE_NAME } from '../config.js';
import type { Reply } from '../chat/reply.js';
import type { ClusterBackend } from '../backend/backend.js';
import type { BackupScheduler } from '../backup/schedule.js';
import type { BackupService } from '../backup/service.js';
import type { MonitorControl } from '../monitor/control.js';
import type { Level, Principal, Services, Surface } from './context.js';
import type { PendingActions } from './pending.js';

export type { Level } from './context.js';

/** The object graph src/app.ts builds: the shared services plus the bot's own parts. */
export interface AppServices extends Services {
  /** The cluster: its nodes and every operation on them (native or Patroni, chosen by src/app.ts). */
  backend: ClusterBackend<CommandContext>;
  /** Every registered command (for help and adapters' registration). */
  commands: Command[];
  pending: PendingActions<CommandContext>;
  backups: BackupService;
  backupScheduler: BackupScheduler;
  /** The monitor loop, running inside `clusterbot start` (MonitorControl.running), else stopped. */
  monitor: MonitorControl;
}

export interface CommandContext {
  services: AppServices;
  /** The cluster this command acts on (services.backend). */
  backend: ClusterBackend<CommandContext>;
  user: Principal & { level: Level };
  surface: Surface;
  /** Update this command's message in place; a no-op where the adapter cannot. */
  progress(reply: Reply): Promise<void>;
}
export const LEVELS: Level[] = ['viewer', 'operator', 'admin'];
/** "a viewer", "an operator", "an admin". */
export const aLevel = (l: Level) => (l === 'viewer' ? 'a viewer' : `an ${l}`);
export const atLeast = (have: Level | null, need: Level) => have !== null && LEVELS.indexOf(have) >= LEVELS.indexOf(need);

export type ArgKind = 'node' | 'string' | 'int' | 'enum' | 'duration' | 'time' | 'flag';

export interface ArgSpec<T = unknown> {
  kind: ArgKind;
  description: string;
  required: boolean;
  choices?: readonly string[];
  /** Validates one token (or, for flags, presence) into the handler's value. */
  schema: z.ZodType<T>;
}

const nodeName = z.string().regex(NODE_NAME, 'is not a node name (lowercase letters, digits, - and _ only)');

/** Durations such as 90s, 10m, 2h, 1d → seconds. */
export function parseDuration(s: string): number | null {
  const m = /^(\d{1,6})(s|m|h|d)?$/.exec(s);
  if (!m) return null;
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
}

export const arg = {
  node: (description: string) => ({ kind: 'node', description, required: true, schema: nodeName }) satisfies ArgSpec<string>,
  optionalNode: (description: string) =>
    ({ kind: 'node', description, required: false, schema: nodeName.optional() }) satisfies ArgSpec<string | undefined>,
  int: (description: string, opts: { min: number; max: number; default: number }) =>
    ({
      kind: 'int',
      description,
      required: false,
      schema: z.coerce
        .number({ error: 'must be a whole number' })
        .int('must be a whole number')
        .min(opts.min, `must be at least ${opts.min}`)
        .max(opts.max, `must be at most ${opts.max}`)
        .default(opts.default),
    }) satisfies ArgSpec<number>,
  choice: <const C extends readonly [string, ...string[]]>(description: string, choices: C) =>
    ({ kind: 'enum', description, required: true, choices, schema: z.enum(choices) }) satisfies ArgSpec<C[number]>,
  optionalChoice: <const C extends readonly [string, ...string[]]>(description: string, choices: C) =>
    ({ kind: 'enum', description, required: false, choices, schema: z.enum(choices).optional() }) satisfies ArgSpec<C[number] | undefined>,
  duration: (description: string) =>
    ({
      kind: 'duration',
      description,
      required: false,
      schema: z
        .string()
        .transform((v, ctx) => {
          const s = parseDuration(v);
          if (s === null || s <= 0) {
            ctx.addIssue({ code: 'custom', message: 'is not a duration like 30m, 2h or 1d' });
            return z.NEVER;
          }
          return s;
        })
        .optional(),
    }) satisfies ArgSpec<number | undefined>,
  string: (description: string, pattern: RegExp, patternHelp: string) =>
    ({ kind: 'string', description, required: false, schema: z.string().regex(pattern, patternHelp).optional() }) satisfies ArgSpec<string | undefined>,
  /** A bare word that switches something on, e.g. `force`. */
  flag: (description: string) => ({ kind: 'flag', description, required: false, schema: z.boolean().default(false) }) satisfies ArgSpec<boolean>,
};

export type ArgSpecs = Record<string, ArgSpec<any>>;
export type ArgValues<S extends ArgSpecs> = { [K in keyof S]: S[K] extends ArgSpec<infer T> ? T : never };

export interface Command<S extends ArgSpecs = ArgSpecs> {
  name: string;
  summary: string;
  /** Longer help: what it does, what it changes. */
  help?: string;
  level: Level;
  args: S;
  examples?: string[];
  /** Does it change the cluster? (audited as a change; refused during nothing else yet) */
  mutates: boolean;
  /** Takes long enough that chat adapters should acknowledge first and edit the reply later. */
  slow?: boolean;
  run(ctx: CommandContext, args: ArgValues<S>): Promise<Reply>;
}

export function defineCommand<S extends ArgSpecs>(c: Command<S>): Command<S> {
  return c;
}

export function usage(c: Command): string {
  const parts = Object.entries(c.args).map(([name, a]) => {
    const label = a.kind === 'flag' ? name : a.choices ? a.choices.join('|') : `<${name}>`;
    return a.required ? label : `[${label}]`;
  });
  return ['/cluster', c.name, ...parts].join(' ');
}
