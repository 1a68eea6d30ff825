// The lines synchronous replication and the write and read endpoints add to /cluster status (and its JSON).
import type { Services } from '../core/context.js';
import type { ClusterSnapshot } from './inspect.js';
import { readSyncState, standbyNames } from './sync/state.js';
import { endpointEnabled, endpointStatus } from './write-endpoint/index.js';
import { readEndpointEnabled, readEndpointStatus } from './read-endpoint/index.js';

/** "on — standby synchronous", "on — DEGRADED to asynchronous since …", "strict — NO synchronous replica: writes wait". */
export function syncStatusLine(s: Services, snap: ClusterSnapshot): { value: string; data: Record<string, unknown> } {
  const st = readSyncState(s.config);
  const synchronous = snap.nodes.filter((n) => n.role === 'replica' && (n.syncState === 'sync' || n.syncState === 'quorum')).map((n) => n.name);
  let value: string;
  if (st.mode === 'off') value = st.active ? 'off, but still in force on the primary (clearing)' : 'off (asynchronous: a crash can lose the last commits)';
  else if (st.mode === 'on' && st.degraded) value = `on — DEGRADED to asynchronous${st.noSyncSince ? ` since ${new Date(st.noSyncSince).toISOString().slice(11, 19)} UTC` : ''}: no synchronous replica streaming (${st.members.join(', ')})`;
  else if (synchronous.length) value = `${st.mode} — ${synchronous.join(', ')} synchronous (${standbyNames(st.members)})`;
  else value = `${st.mode} — NO synchronous replica streaming${st.mode === 'strict' ? ': writes wait' : ''} (${standbyNames(st.members) || 'not applied yet'})`;
  return { value, data: { sync: { mode: st.mode, degraded: st.mode === 'on' && st.degraded, active: st.active, members: st.members, synchronous, primary: st.primary } } };
}

/** The PgBouncer write endpoint's line (both backends). */
export function installWriteEndpointStatus(s: Services): void {
  s.statusContributors.push(async (snap) => {
    if (!endpointEnabled(s)) return null;
    const st = await endpointStatus(s, snap.primary);
    return st ? { label: 'Write endpoint', ...st } : null;
  });
}

export function installHaStatus(s: Services): void {
  s.statusContributors.push(async (snap) => ({ label: 'Sync replication', ...syncStatusLine(s, snap) }));
  installWriteEndpointStatus(s);
  s.statusContributors.push(async (snap) => {
    if (!readEndpointEnabled(s)) return null;
    const st = await readEndpointStatus(s, snap);
    return st ? { label: 'Read endpoint', ...st } : null;
  });
}
