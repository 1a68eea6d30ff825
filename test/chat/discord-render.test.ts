// The pure parts of the Discord adapter: the /cluster definition generated from ArgSpecs, the
// way back from interaction options to router text, and Reply → embed within Discord's limits.
import { describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.js';
import { loadConfig } from '../../src/config.js';
import { arg, defineCommand, type Command } from '../../src/core/command.js';
import { renderMessage } from '../../src/chat/discord/render.js';
import { clusterCommand, commandText, OVERFLOW_SUBCOMMAND, sameDefinitions } from '../../src/chat/discord/slash-commands.js';
import { tokenize } from '../../src/core/parse.js';

const config = loadConfig({ POSTGRES_ADMIN_PASSWORD: 'a'.repeat(12), POSTGRES_REPLICATOR_PASSWORD: 'b'.repeat(12) });
const noop = async () => ({ title: 'x', severity: 'ok' as const });

const sample = defineCommand({
  name: 'sample',
  summary: 'A command with every kind of argument',
  level: 'viewer',
  mutates: false,
  args: {
    node: arg.optionalNode('a node'),
    mode: arg.optionalChoice('a mode', ['full', 'incremental']),
    lines: arg.int('how many', { min: 1, max: 500, default: 50 }),
    label: arg.string('a label', /^[\w ]+$/, 'letters and spaces'),
    window: arg.duration('how far back'),
    force: arg.flag('do it anyway'),
  },
  run: noop,
}) as Command;

describe('Discord /cluster definition', () => {
  it('types every kind of argument and offers node names as choices', () => {
    const def = clusterCommand([sample], config);
    const [sub] = def.options as Array<{ name: string; options: Array<{ name: string; type: number; choices?: unknown[] }> }>;
    expect(sub.options.map((o) => [o.name, o.type])).toEqual([
      ['node', 3],
      ['mode', 3],
      ['lines', 4],
      ['label', 3],
      ['window', 3],
      ['force', 5],
    ]);
    expect(sub.options[0].choices).toEqual(['primary', 'standby', 'readonly'].map((n) => ({ name: n, value: n })));
    expect(sub.options[1].choices).toEqual([{ name: 'full', value: 'full' }, { name: 'incremental', value: 'incremental' }]);
  });

  it('puts required options first, as Discord demands', () => {
    const c = defineCommand({ name: 'mixed', summary: 's', level: 'viewer', mutates: false, args: { n: arg.int('n', { min: 1, max: 9, default: 1 }), node: arg.node('x') }, run: noop }) as Command;
    const [sub] = clusterCommand([c], config).options as Array<{ options: Array<{ name: string; required: boolean }> }>;
    expect(sub.options.map((o) => [o.name, o.required])).toEqual([['node', true], ['n', false]]);
  });

  it('stays within 25 subcommands: the rest are reached through /cluster run', () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ ...sample, name: `cmd${i}` }) as Command);
    const def = clusterCommand(many, config);
    expect(def.options).toHaveLength(25);
    expect(def.options!.at(-1)!.name).toBe(OVERFLOW_SUBCOMMAND);
    expect(commandText(OVERFLOW_SUBCOMMAND, [{ name: 'command', value: 'cmd28 primary' }], many)).toBe('/cluster cmd28 primary');
  });

  it('compares with what Discord echoes back (ids, versions, defaults added) and sees real changes', () => {
    const wanted = [clusterCommand(commands, config)];
    const echoed = JSON.parse(JSON.stringify(wanted)).map((c: Record<string, unknown>) => ({ ...c, id: '1', version: '2', nsfw: false, default_member_permissions: null }));
    expect(sameDefinitions(echoed, wanted)).toBe(true);
    echoed[0].options[0].description = 'changed';
    expect(sameDefinitions(echoed, wanted)).toBe(false);
  });
});

describe('Discord options → router text', () => {
  it('keeps positional order, fills gaps with defaults, quotes spaces and adds flags', () => {
    const text = commandText('sample', [{ name: 'label', value: 'two words' }, { name: 'node', value: 'standby' }, { name: 'mode', value: 'full' }, { name: 'force', value: true }], [sample]);
    expect(text).toBe('/cluster sample standby full 50 "two words" force');
    expect(tokenize(text)).toEqual(['/cluster', 'sample', 'standby', 'full', '50', 'two words', 'force']);
  });

  it('asks for an earlier option that has no default instead of shifting positions', () => {
    expect(() => commandText('sample', [{ name: 'lines', value: 5 }], [sample])).toThrow(/give node too when you give lines/);
  });

  it('passes a plain subcommand through', () => {
    expect(commandText('status', [], commands)).toBe('/cluster status');
  });
});

describe('Reply → Discord message', () => {
  it('colours by severity, tables in code blocks, short fields inline, red Confirm button', () => {
    const m = renderMessage({
      title: 'Confirm: fail over',
      severity: 'warn',
      text: 'Promote standby',
      tables: [{ columns: ['node', 'role'], rows: [['primary', 'down'], ['standby', 'replica']] }],
      fields: [{ label: 'Lag', value: '0 B', short: true }],
      buttons: [
        { actionId: 'cb:confirm:abc', label: 'Promote standby', style: 'danger' },
        { actionId: 'cb:cancel:abc', label: 'Cancel' },
      ],
      context: 'expires in 120 s',
    });
    const [embed] = m.embeds;
    expect(embed.color).toBe(0xf39c12);
    expect(embed.description).toMatch(/^Promote standby\n```\nnode +role\n.*\nprimary +down\nstandby +replica\n```$/s);
    expect(embed.fields).toEqual([{ name: 'Lag', value: '0 B', inline: true }]);
    expect(embed.footer).toEqual({ text: 'expires in 120 s' });
    expect(m.components[0].components.map((b: any) => [b.custom_id, b.style])).toEqual([['cb:confirm:abc', 4], ['cb:cancel:abc', 2]]);
  });

  it('stays within Discord limits for a huge table and too many fields', () => {
    const rows = Array.from({ length: 500 }, (_, i) => [`node${i}`, 'x'.repeat(30)]);
    const fields = Array.from({ length: 40 }, (_, i) => ({ label: `f${i}`, value: 'v'.repeat(2000) }));
    const m = renderMessage({ title: 't'.repeat(400), severity: 'crit', tables: [{ columns: ['a', 'b'], rows }], fields });
    const [embed] = m.embeds;
    expect(embed.title!.length).toBeLessThanOrEqual(256);
    expect(embed.description!.length).toBeLessThanOrEqual(4096);
    expect(embed.description).toMatch(/more lines\n```$/);
    expect(embed.fields).toHaveLength(25);
    expect(Math.max(...embed.fields!.map((f) => f.value.length))).toBeLessThanOrEqual(1024);
  });

  it('attaches an image and shows it in the embed', () => {
    const m = renderMessage({ title: 'Lag', severity: 'info', image: { path: '/tmp/x/lag chart.png', filename: 'lag chart.png', alt: 'lag' } });
    expect(m.files).toEqual([{ path: '/tmp/x/lag chart.png', name: 'lag_chart.png' }]);
    expect(m.embeds[0].image).toEqual({ url: 'attachment://lag_chart.png' });
  });
});
