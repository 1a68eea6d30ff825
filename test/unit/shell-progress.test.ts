// The terminal cannot edit what it printed: a long operation's progress edits print only what changed.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ShellAdapter } from '../../src/chat/shell/shell-adapter.js';
import type { Reply } from '../../src/chat/reply.js';
import type { Router } from '../../src/core/router.js';

/** Types `line` into a terminal chat whose router sends `edits` as progress, then answers `final`. */
async function terminal(line: string, edits: Reply[], final: Reply): Promise<string> {
  const router = {
    async handle(_text: string, _who: unknown, surface: { progress: (r: Reply) => Promise<void> }) {
      for (const e of edits) await surface.progress(e);
      return final;
    },
  } as unknown as Router;
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = '';
  output.on('data', (b: Buffer) => (printed += b.toString()));
  const shell = new ShellAdapter(router, { input, output, user: { id: 'tester', display: 'tester', platform: 'shell' } });
  await shell.start();
  input.end(`${line}\n`);
  await shell.done();
  return printed;
}

describe('the terminal chat', () => {
  it('prints each progress edit as the lines that changed, not the whole card again', async () => {
    const card = (steps: string[]): Reply => ({ title: 'Failover: standby', severity: 'info', text: steps.join('\n') });
    const printed = await terminal(
      '/cluster failover',
      [
        card(['✓ fence primary', '▶ promote standby…']),
        card(['✓ fence primary', '✓ promote standby', '▶ re-point readonly…']),
        card(['✓ fence primary', '✓ promote standby', '▶ re-point readonly…']),
      ],
      card(['✓ fence primary', '✓ promote standby', '✓ re-point readonly']),
    );
    // A progress print is a "↻ " line and its indented continuation lines.
    const progress: string[] = [];
    for (const line of printed.split('\n')) {
      const at = line.indexOf('↻ '); // the first may follow the prompt on its line
      if (at >= 0) progress.push(line.slice(at + 2));
      else if (line.startsWith('  ') && progress.length && !line.startsWith('   ')) progress[progress.length - 1] += `\n${line.trim()}`;
    }
    expect(progress).toHaveLength(2); // the third edit changed nothing, so it printed nothing
    expect(progress[0]).toContain('✓ fence primary');
    expect(progress[1]).not.toContain('fence primary');
    expect(progress[1]).toContain('✓ promote standby');
    expect(progress[1]).toContain('▶ re-point readonly…');
    expect(printed.match(/Failover: standby/g)).toHaveLength(2); // the first edit, and the final card in full
    expect(printed).toContain('✓ re-point readonly');
  });

  it('leaves a progress edit\'s tables to the final card (they re-align as rows are added)', async () => {
    const card = (rows: string[][]): Reply => ({ title: 'Rejoin primary', severity: 'info', text: `▶ step ${rows.length}`, tables: [{ columns: ['step', 'result'], rows }] });
    const printed = await terminal(
      '/cluster rejoin primary',
      [card([['rewind', 'running']]), card([['rewind', 'rewound with pg_rewind from standby'], ['streaming', 'running']])],
      { ...card([['rewind', 'rewound with pg_rewind from standby'], ['streaming', 'streaming after 54 ms']]), text: 'done' },
    );
    expect(printed.match(/rewound with pg_rewind from standby/g)).toHaveLength(1); // only in the final card
    expect(printed).toContain('↻ ▶ step 2');
    expect(printed).toContain('streaming after 54 ms');
  });
});
