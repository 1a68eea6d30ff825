// Writes docs/configuration.md from the zod schema in src/config.ts: every key with its type, its
// default and its description. Sections and key order follow .env.example; a key without a
// `.describe()` falls back to its .env.example comment. `npm run docs` (scripts/gen-docs.ts) runs
// it; test/unit/config-docs.test.ts fails when the committed page is stale.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { configSchema } from '../src/config.js';

export const CONFIG_DOC = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));
const ENV_EXAMPLE = fileURLToPath(new URL('../.env.example', import.meta.url));

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  defaultValue?: unknown;
  entries?: Record<string, string>;
  format?: string;
  checks?: Array<{ _zod: { def: { check: string; format?: string; value?: number; inclusive?: boolean } } }>;
}
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

export interface KeyDoc {
  key: string;
  type: string;
  default: string;
  description: string;
}

/** The key's default as the user would write it in .env, or why there is none. */
function defaultOf(schema: z.ZodType): string {
  for (let s: z.ZodType | undefined = schema; s; ) {
    const d = defOf(s);
    if (d.type === 'default' || d.type === 'prefault') {
      const v = typeof d.defaultValue === 'function' ? (d.defaultValue as () => unknown)() : d.defaultValue;
      return v === '' ? '(empty)' : `\`${String(v)}\``;
    }
    if (d.type === 'optional') return '(unset)';
    s = d.innerType;
  }
  return '**required**';
}

function numberType(d: Def): string {
  const checks = (d.checks ?? []).map((c) => c._zod.def);
  const name = checks.some((c) => c.check === 'number_format' && /int/.test(c.format ?? '')) ? 'integer' : 'number';
  const bounds = checks.flatMap((c) => {
    if (c.check === 'greater_than') return [`${c.inclusive ? '≥' : '>'} ${c.value}`];
    if (c.check === 'less_than') return [`${c.inclusive ? '≤' : '<'} ${c.value}`];
    return [];
  });
  return bounds.length ? `${name} ${bounds.join(', ')}` : name;
}

/** A short, readable type: enum values, number bounds, boolean, URL, or text. */
function typeOf(schema: z.ZodType): string {
  let s: z.ZodType | undefined = schema;
  while (s) {
    const d = defOf(s);
    switch (d.type) {
      case 'default':
      case 'prefault':
      case 'optional':
        s = d.innerType;
        continue;
      case 'pipe': {
        const input = defOf(d.in!);
        if (input.type === 'enum' && Object.keys(input.entries ?? {}).includes('true')) return 'boolean';
        // A string turned into something else: a comma-separated list when it parses into an array.
        const sample = (s as z.ZodType).safeParse('12345,67890');
        return sample.success && Array.isArray(sample.data) ? 'comma-separated list' : typeOf(d.in!);
      }
      case 'enum':
        return Object.values(d.entries ?? {}).map((v) => `\`${v}\``).join(' | ');
      case 'number':
        return numberType(d);
      case 'string':
        return d.format === 'url' ? 'URL' : 'text';
      default:
        return d.type;
    }
  }
  return 'text';
}

interface EnvExample {
  sections: Array<{ title: string; keys: string[] }>;
  comments: Map<string, string>;
  /** Keys that appear only commented out (`# KEY=`): read by docker-compose, not by the bot. */
  composeOnly: Array<{ key: string; example: string }>;
}

/** Sections, key order and each key's comment block (shared by the keys that follow it). */
export function parseEnvExample(text: string): EnvExample {
  const out: EnvExample = { sections: [{ title: 'General', keys: [] }], comments: new Map(), composeOnly: [] };
  let comment: string[] = [];
  let lastComment = '';
  for (const line of text.split('\n')) {
    const section = /^# --- (.+) ---$/.exec(line);
    const key = /^([A-Z][A-Z0-9_]*)=/.exec(line);
    const commented = /^# ([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (section) {
      out.sections.push({ title: section[1], keys: [] });
      comment = [];
      lastComment = '';
    } else if (commented) {
      out.composeOnly.push({ key: commented[1], example: commented[2] });
    } else if (key) {
      if (comment.length) lastComment = comment.join(' ');
      comment = [];
      out.sections.at(-1)!.keys.push(key[1]);
      if (lastComment) out.comments.set(key[1], lastComment);
    } else if (line.startsWith('#')) {
      comment.push(line.replace(/^#\s?/, ''));
    } else {
      comment = [];
      lastComment = '';
    }
  }
  out.sections = out.sections.filter((s) => s.keys.length);
  return out;
}

export function keyDocs(
  envExample: string,
  shape: Record<string, z.ZodType> = configSchema.shape,
): { sections: Array<{ title: string; keys: KeyDoc[] }>; composeOnly: EnvExample['composeOnly'] } {
  const env = parseEnvExample(envExample);
  const doc = (key: string): KeyDoc => ({
    key,
    type: typeOf(shape[key]),
    default: defaultOf(shape[key]),
    description: shape[key].description ?? env.comments.get(key) ?? '',
  });
  const placed = new Set(env.sections.flatMap((s) => s.keys));
  const sections = env.sections.map((s) => ({ title: s.title, keys: s.keys.filter((k) => k in shape).map(doc) }));
  const rest = Object.keys(shape).filter((k) => !placed.has(k));
  if (rest.length) sections.push({ title: 'other (not yet in .env.example)', keys: rest.map(doc) });
  return { sections: sections.filter((s) => s.keys.length), composeOnly: env.composeOnly.filter((c) => !(c.key in shape)) };
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderConfigDocs(envExample = readFileSync(ENV_EXAMPLE, 'utf8')): string {
  const { sections, composeOnly } = keyDocs(envExample);
  const count = sections.reduce((n, s) => n + s.keys.length, 0);
  const lines = [
    '<!-- Generated by `npm run docs` (scripts/gen-config-docs.ts) from src/config.ts. Do not edit by hand. -->',
    '# Configuration reference',
    '',
    'You want to know what a setting does, what it accepts and what you get when you leave it out.',
    '',
    'Everything is read from `.env` (loaded with dotenv) and validated when the bot starts: every bad key',
    'is listed in one error, and nothing runs until it is fixed. `.env.example` lists every key with its',
    'default; an empty value means "use the default". Anyone not listed in `ADMINS`, `OPERATORS` or',
    '`VIEWERS` is refused (and the refusal audited); the local terminal user has `TERMINAL_USER_LEVEL`.',
    '',
    `${count} keys. Sections follow \`.env.example\`.`,
    '',
    ...sections.map((s) => `- [${s.title}](#${s.title.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')})`),
  ];
  for (const s of sections) {
    lines.push('', `## ${s.title}`, '', '| key | type | default | description |', '|---|---|---|---|');
    for (const k of s.keys) lines.push(`| \`${k.key}\` | ${cell(k.type)} | ${cell(k.default)} | ${cell(k.description) || '–'} |`);
  }
  if (composeOnly.length) {
    lines.push(
      '',
      '## read by docker-compose only',
      '',
      'These appear commented out in `.env.example`: docker-compose reads them (from the environment or',
      '`.env`); the bot does not. See [docker.md](docker.md).',
      '',
      '| key | example |',
      '|---|---|',
      ...composeOnly.map((c) => `| \`${c.key}\` | ${c.example ? `\`${cell(c.example)}\`` : '(host-specific)'} |`),
    );
  }
  return `${lines.join('\n')}\n`;
}
