// The Patroni watcher's timeline ledger: which WAL the bot saw acknowledged is missing from the
// history of a new leader (the decision behind the "Acknowledged writes discarded" alert; the whole
// path runs on real Patroni in test/patroni/frozen-leader.test.ts).
import { describe, expect, it } from 'vitest';
import { discardedWritesAlert } from '../../src/patroni/discard-note.js';
import { segmentsFor } from '../../src/patroni/discarded-wal.js';
import { versionAtLeast } from '../../src/patroni/protections.js';
import { parseHistory, TimelineLedger } from '../../src/patroni/timelines.js';

const T0 = 1_000_000;

describe('Patroni timeline ledger', () => {
  it('reads a timeline history file into where each ancestor timeline was left', () => {
    const h = parseHistory('1\t0/5000060\tno recovery target specified\n\n2\t0/60000A0\tno recovery target specified\n');
    expect([...h.entries()]).toEqual([
      [1, '0/5000060'],
      [2, '0/60000A0'],
    ]);
  });

  it('leadership back on timeline 1 after timeline 2 took writes: the whole timeline-2 range, once', () => {
    const l = new TimelineLedger();
    l.see('primary', 1, '0/5000000', 700, T0);
    l.see('primary', 1, '0/5000060', 700, T0 + 1000);
    l.see('standby', 2, '0/5000100', 701, T0 + 12_000, '0/5000060');
    l.see('standby', 2, '0/50001A8', 703, T0 + 13_000);
    const ranges = l.discardedBy(1, new Map(), T0 + 15_000);
    expect(ranges).toEqual([{ timeline: 2, leader: 'standby', from: '0/5000060', to: '0/50001A8', bytes: 0x148, xidsSeen: 2, why: 'the new leader is on timeline 1, which never contained timeline 2' }]);
    expect(l.discardedBy(1, new Map(), T0 + 16_000)).toEqual([]);
  });

  it('a freshly promoted leader replaced by a fork before its last write: the tail past the fork', () => {
    const l = new TimelineLedger();
    l.see('primary', 1, '0/5000000', null, T0);
    l.see('standby', 2, '0/5000100', null, T0 + 1000, '0/5000060');
    l.see('standby', 2, '0/5000300', null, T0 + 2000);
    const ranges = l.discardedBy(3, new Map([[1, '0/5000060'], [2, '0/5000200']]), T0 + 3000);
    expect(ranges.map((r) => [r.timeline, r.from, r.to, r.bytes])).toEqual([[2, '0/5000200', '0/5000300', 0x100]]);
  });

  it('reports nothing for an ordinary failover from the timeline the bot started on, or a fork past everything seen', () => {
    const l = new TimelineLedger();
    l.see('primary', 1, '0/5000300', null, T0);
    expect(l.discardedBy(2, new Map([[1, '0/5000100']]), T0 + 1000)).toEqual([]);
    l.see('standby', 2, '0/5000400', null, T0 + 1000, '0/5000100');
    expect(l.discardedBy(3, new Map([[1, '0/5000100'], [2, '0/5000400']]), T0 + 2000)).toEqual([]);
  });

  it('names the 16 MB segments of a range, and compares Patroni versions', () => {
    expect(segmentsFor(2, '0/4FFFFF0', '0/5000010')).toEqual(['000000020000000000000004', '000000020000000000000005']);
    expect(segmentsFor(3, '1/FF000000', '2/00000010')).toEqual(['0000000300000001000000FF', '000000030000000200000000']);
    expect([versionAtLeast('3.0.2', [3, 0, 3]), versionAtLeast('3.0.3', [3, 0, 3]), versionAtLeast('3.1', [3, 0, 3]), versionAtLeast('4.0.1', [3, 0, 3])]).toEqual([false, true, true, true]);
  });

  it('the alert is critical and says the range, what was counted or why not, and the next step', () => {
    const range = { timeline: 2, leader: 'standby', from: '0/5000060', to: '0/50001A8', bytes: 328, xidsSeen: 1, why: 'the new leader is on timeline 1, which never contained timeline 2' };
    const counted = discardedWritesAlert('primary', 1, [range], [{ ok: true, transactions: 3, source: "standby's pg_wal" }]);
    expect(counted.severity).toBe('crit');
    expect(counted.fields?.[0].value).toBe("timeline 2 from 0/5000060 to 0/50001A8 (328 B, written on standby): 3 committed transactions (pg_waldump over standby's pg_wal)");
    const blind = discardedWritesAlert('primary', 1, [range], [{ ok: false, why: 'standby: connect ECONNREFUSED' }]);
    expect(blind.fields?.[0].value).toMatch(/: pg_waldump could not read it \(standby: connect ECONNREFUSED\); at least 1 write transaction began there while the bot watched$/);
    expect(blind.fields?.[1]).toEqual({ label: 'Next step', value: expect.stringMatching(/^keep standby from being rewound before its WAL is saved: \/cluster maintenance on \(Patroni pause\).* pg_waldump -t 2 -s 0\/5000060 -e 0\/50001A8; .*\/cluster rejoin standby/) });
  });
});
