// The catch-up's second question, as a card: when the target did not catch up in time nothing was
// fenced or promoted, and the card says what was reached and asks again — a new Confirm that
// promotes anyway, naming the WAL range it loses. The run lives in src/cluster/failover/confirmed.ts.
import type { Field } from '../chat/reply.js';
import type { CatchupOutcome } from '../cluster/failover/catchup.js';
import { bytes } from './failover-card.js';

export interface CatchupQuestion {
  title: string;
  summary: string;
  confirmLabel: string;
  text: string;
  fields: Field[];
}

export function catchupQuestion(target: string, short: CatchupOutcome): CatchupQuestion {
  const range = `LSN ${short.reachedLsn ?? short.startLsn ?? '?'} – ${short.wantLsn}`;
  return {
    title: `Failover paused — ${target} did not catch up from ${short.from}`,
    summary: `fail over to ${target} without catching up (force)`,
    confirmLabel: `Promote ${target} anyway (force)`,
    text: [
      `Nothing was fenced or promoted: ${short.line}.`,
      `Promoting ${target} now loses up to ${bytes(short.shortBytes)} that ${short.from} holds: ${range}.`,
      `Confirm promotes ${target} anyway, as \`/cluster failover ${target} force\` would. Cancel changes nothing more (${target} keeps streaming from ${short.from}); /cluster failover ${target} tries the catch-up again.`,
    ].join('\n'),
    fields: [
      { label: 'Reached', value: `${short.reachedLsn ?? '?'} of ${short.wantLsn} from ${short.from}`, short: true },
      { label: 'At risk', value: `${range} (${bytes(short.shortBytes)})`, short: true },
    ],
  };
}
