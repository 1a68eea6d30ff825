// The failover run behind the confirmation card, with the catch-up's second question: when the
// target did not catch up in time nothing was fenced or promoted, and the card is edited to say what
// was reached and to ask again — a new Confirm that promotes anyway, naming the WAL range it loses.
import type { Reply } from '../chat/reply.js';
import { runFailover, type FailoverResult } from '../cluster/failover/failover.js';
import type { CatchupOutcome } from '../cluster/failover/catchup.js';
import { askConfirmation } from '../core/confirm.js';
import type { CommandContext } from '../core/command.js';
import { bytes, runWithProgress } from './failover-card.js';

export async function runConfirmedFailover(ctx: CommandContext, target: string, force: boolean): Promise<Reply> {
  let result: FailoverResult | null = null;
  const reply = await runWithProgress(ctx, 'Failover', async (hooks) => (result = await runFailover(ctx.services, { ...hooks, target, force })));
  const short = (result as FailoverResult | null)?.catchupShortfall;
  return short ? askAgain(ctx, target, short, reply) : reply;
}

function askAgain(ctx: CommandContext, target: string, short: CatchupOutcome, done: Reply): Reply {
  const range = `LSN ${short.reachedLsn ?? short.startLsn ?? '?'} – ${short.wantLsn}`;
  const card = askConfirmation(ctx, {
    command: 'failover',
    summary: `fail over to ${target} without catching up (force)`,
    confirmLabel: `Promote ${target} anyway (force)`,
    level: 'admin',
    text: [
      `Nothing was fenced or promoted: ${short.line}.`,
      `Promoting ${target} now loses up to ${bytes(short.shortBytes)} that ${short.from} holds: ${range}.`,
      `Confirm promotes ${target} anyway, as \`/cluster failover ${target} force\` would. Cancel changes nothing more (${target} keeps streaming from ${short.from}); /cluster failover ${target} tries the catch-up again.`,
    ].join('\n'),
    fields: [
      { label: 'Reached', value: `${short.reachedLsn ?? '?'} of ${short.wantLsn} from ${short.from}`, short: true },
      { label: 'At risk', value: `${range} (${bytes(short.shortBytes)})`, short: true },
    ],
    data: { catchup: short },
    run: (c) => runConfirmedFailover(c, target, true),
  });
  return {
    ...card,
    title: `Failover paused — ${target} did not catch up from ${short.from}`,
    tables: done.tables,
    data: { ...(done.data ?? {}), ...(card.data ?? {}) },
  };
}
