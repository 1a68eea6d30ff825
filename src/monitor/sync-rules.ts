// Alert rules for synchronous replication, from the sync guard's state file. Pure: state in, findings out.
import type { SyncState } from '../cluster/sync/state.js';
import type { Finding } from './rules.js';

export function syncFindings(st: SyncState, degradeSeconds: number, now: number): Finding[] {
  if (st.mode === 'off') return [];
  const members = st.members.join(', ') || 'none';
  const waited = st.noSyncSince === null ? 0 : Math.round((now - st.noSyncSince) / 1000);
  // Right after a promotion the new primary starts degraded until a replica streams: alert only when that lasts.
  if (st.mode === 'on' && st.degraded && st.noSyncSince !== null && now - st.noSyncSince >= degradeSeconds * 1000) {
    return [
      {
        rule: 'sync_degraded',
        subject: 'cluster',
        node: st.primary,
        severity: 'crit',
        title: 'Synchronous replication DEGRADED to asynchronous',
        text: `No synchronous replica (${members}) has streamed from ${st.primary ?? 'the primary'} for ${waited} s, so commits no longer wait for one: writes continue, but a crash of the primary now can lose acknowledged commits. It is restored by itself as soon as one of them streams again.`,
        value: `no synchronous replica for ${waited} s`,
        threshold: `SYNC_DEGRADE_SECONDS=${degradeSeconds}`,
        next: `bring a synchronous replica back (/cluster status, /cluster start <node> or /cluster rejoin <node>)`,
      },
    ];
  }
  if (st.mode === 'strict' && st.noSyncSince !== null && now - st.noSyncSince >= degradeSeconds * 1000) {
    return [
      {
        rule: 'sync_blocked',
        subject: 'cluster',
        node: st.primary,
        severity: 'crit',
        title: 'Writes BLOCKED: strict synchronous replication has no synchronous replica',
        text: `SYNC_MODE is strict and none of ${members} has streamed from ${st.primary ?? 'the primary'} for ${waited} s: every commit waits (applications hang) until one streams again. Strict never degrades to asynchronous.`,
        value: `no synchronous replica for ${waited} s`,
        threshold: `SYNC_DEGRADE_SECONDS=${degradeSeconds}`,
        next: 'bring a synchronous replica back (/cluster start <node> or /cluster rejoin <node>), or accept the risk with /cluster sync on (degrades to async)',
      },
    ];
  }
  return [];
}
