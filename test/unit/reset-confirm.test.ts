// The typed confirmation of /cluster reset is plain command text, so every adapter carries it:
// the terminal and Slack pass the words as typed; Discord's `/cluster reset step:confirm code:…`
// becomes the same text. And a typed code is found without case or dash, once, for its command only.
import { describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.js';
import { loadConfig } from '../../src/config.js';
import { usage } from '../../src/core/command.js';
import { PendingActions } from '../../src/core/pending.js';
import { clusterCommand, commandText } from '../../src/chat/discord/slash-commands.js';

const config = loadConfig({ POSTGRES_ADMIN_PASSWORD: 'a'.repeat(12), POSTGRES_REPLICATOR_PASSWORD: 'b'.repeat(12) });
const reset = commands.find((c) => c.name === 'reset')!;

describe('/cluster reset confirm <code> on every adapter', () => {
  it('is one usage line: /cluster reset [purge-backups|confirm] [<code>]', () => {
    expect(usage(reset)).toBe('/cluster reset [purge-backups|confirm] [<code>]');
  });

  it('Discord: a subcommand with a step choice and a code, turned back into the typed words', () => {
    const subs = clusterCommand(commands, config).options as Array<{ name: string; options: Array<{ name: string; choices?: Array<{ value: string }> }> }>;
    const sub = subs.find((s) => s.name === 'reset')!;
    expect(sub.options.map((o) => o.name)).toEqual(['step', 'code']);
    expect(sub.options[0].choices?.map((c) => c.value)).toEqual(['purge-backups', 'confirm']);
    expect(commandText('reset', [{ name: 'step', value: 'confirm' }, { name: 'code', value: 'K7Q-X2M' }], commands)).toBe('/cluster reset confirm K7Q-X2M');
    expect(commandText('reset', [{ name: 'step', value: 'purge-backups' }], commands)).toBe('/cluster reset purge-backups');
  });

  it('a code is found without case or dash, only for its own command', () => {
    const pending = new PendingActions(120);
    const run = async () => ({ title: 'x', severity: 'ok' as const });
    const who = { id: 'alice', display: 'alice', platform: 'shell' as const };
    const { action } = pending.create({ command: 'reset', summary: 's', requester: who, channel: 'c', level: 'admin', confirmLabel: 'Reset', typedCode: 'K7Q-X2M', run });
    expect(pending.byCode('reset', 'k7qx2m')?.id).toBe(action.id);
    expect(pending.byCode('reset', 'K7Q-X2M')?.id).toBe(action.id);
    expect(pending.byCode('down', 'K7Q-X2M')).toBeUndefined();
    expect(pending.byCode('reset', 'K7Q-X2N')).toBeUndefined();
  });
});
