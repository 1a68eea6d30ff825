// The Patroni failover card says what Patroni does with WAL a member holds beyond the candidate.
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/patroni/leader-change.js';
import { patroniDiscardNote } from '../../src/patroni/discard-note.js';

const member = (name: string, lagBytes: number | null, nofailover = false) => ({ name, node: name, role: 'replica', state: 'running', timeline: 1, lagBytes, nofailover, apiUrl: null, pendingRestart: false });

function plan(kind: Plan['kind'], candidateLag: number | null, members: ReturnType<typeof member>[]): Plan {
  return { kind, leader: { name: 'primary' }, leaderAlive: false, candidate: { name: 'standby' }, lagBytes: candidateLag, paused: false, snap: { patroni: { members } } } as unknown as Plan;
}

describe('Patroni failover card: what Patroni discards', () => {
  it('names each member with more WAL than the candidate, says Patroni rewinds it (discards), and which member would keep it', () => {
    const lines = patroniDiscardNote(plan('failover', 40_000, [member('primary', null), member('standby', 40_000), member('readonly', 8_000, true), member('spare', 1_000)]));
    expect(lines).toEqual([
      expect.stringMatching(/^⚠ readonly \(nofailover\) has 31 kB more WAL than standby: Patroni promotes standby as it is and rewinds readonly onto the new timeline, so that WAL is discarded — Patroni cannot first catch standby up from another member\.$/),
      expect.stringMatching(/^⚠ spare has .* more WAL than standby: .* discarded .*; \/cluster failover spare keeps it\.$/),
    ]);
  });

  it('says nothing for a switchover, an unknown lag, or when nobody is ahead', () => {
    expect(patroniDiscardNote(plan('switchover', 40_000, [member('readonly', 0)]))).toEqual([]);
    expect(patroniDiscardNote(plan('failover', null, [member('readonly', 0)]))).toEqual([]);
    expect(patroniDiscardNote(plan('failover', 100, [member('readonly', 100), member('x', null)]))).toEqual([]);
  });
});
