// The failover behind the confirmation card: run it, editing the card as steps pass; when the target
// did not catch up in time (nothing fenced or promoted), ask again with a Confirm that forces it.
import type { Reply } from '../../chat/reply.js';
import type { CommandContext } from '../../core/command.js';
import { askConfirmation } from '../../core/confirm.js';
import { catchupQuestion } from '../../present/catchup-card.js';
import { runWithProgress } from '../../present/failover-card.js';
import type { CatchupOutcome } from './catchup.js';
import { runFailover, type FailoverResult } from './failover.js';

export async function runConfirmedFailover(ctx: CommandContext, target: string, force: boolean): Promise<Reply> {
  let result: FailoverResult | null = null;
  const reply = await runWithProgress(ctx, 'Failover', async (hooks) => (result = await runFailover(ctx.services, { ...hooks, target, force })));
  const short = (result as FailoverResult | null)?.catchupShortfall;
  return short ? askAgain(ctx, target, short, reply) : reply;
}

function askAgain(ctx: CommandContext, target: string, short: CatchupOutcome, done: Reply): Reply {
  const { title, ...question } = catchupQuestion(target, short);
  const card = askConfirmation(ctx, {
    command: 'failover',
    level: 'admin',
    ...question,
    data: { catchup: short },
    run: (c) => runConfirmedFailover(c, target, true),
  });
  return {
    ...card,
    title,
    tables: done.tables,
    data: { ...(done.data ?? {}), ...(card.data ?? {}) },
  };
}
