// Synchronous replication as Patroni runs it (synchronous_mode / synchronous_mode_strict in its
// dynamic configuration; the member with role sync_standby), in the shape the monitor's sync rules
// and metrics read (SyncState): `on` with no sync_standby is Patroni running asynchronously — degraded.
import type { SyncState } from '../cluster/sync/state.js';
import { isLeader, type PatroniMember } from './client.js';

export interface PatroniSyncConfig {
  synchronous_mode?: unknown;
  synchronous_mode_strict?: unknown;
}

/** The state now, from Patroni's configuration and members; `before` carries when the synchronous standby was lost. */
export function patroniSyncState(cfg: PatroniSyncConfig, members: PatroniMember[], before: SyncState | null, now: number): SyncState {
  const mode = cfg.synchronous_mode ? (cfg.synchronous_mode_strict === true ? 'strict' : 'on') : 'off';
  const leader = members.find(isLeader)?.name ?? null;
  const candidates = members.filter((m) => !isLeader(m) && m.tags?.nofailover !== true && m.tags?.nosync !== true).map((m) => m.name);
  const syncNodes = members.filter((m) => m.role === 'sync_standby').map((m) => m.name);
  const missing = mode !== 'off' && syncNodes.length === 0;
  return {
    mode,
    setBy: 'Patroni (synchronous_mode)',
    setAt: null,
    primary: leader,
    members: candidates,
    active: syncNodes.length > 0,
    degraded: mode === 'on' && missing,
    noSyncSince: missing ? (before?.mode === mode && before.noSyncSince !== null ? before.noSyncSince : now) : null,
    syncNodes,
    updatedAt: new Date(now).toISOString(),
  };
}
