// What synchronous replication is set to, and what was last applied on which primary: one JSON
// file in CLUSTERBOT_HOME, written BEFORE a weakening change and AFTER a strengthening one, so a
// crash at any moment leaves it pessimistic (a failover never claims a guarantee that was not held).
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../../config.js';
import { mkdirPrivate, replacePrivate } from '../../core/private-files.js';

export type SyncMode = 'off' | 'on' | 'strict';
export const SYNC_MODES = ['off', 'on', 'strict'] as const;

export interface SyncState {
  /** The mode chosen in chat (/cluster sync), else SYNC_MODE. */
  mode: SyncMode;
  /** Who chose it in chat, and when (null: from SYNC_MODE). */
  setBy: string | null;
  setAt: string | null;
  /** The primary the settings below were applied on. */
  primary: string | null;
  /** Failover-eligible replicas named in synchronous_standby_names (ANY 1 of them). */
  members: string[];
  /** synchronous_standby_names is in force on `primary`: every acknowledged commit reached a member. */
  active: boolean;
  /** Mode on, but no member streamed for SYNC_DEGRADE_SECONDS: commits no longer wait. */
  degraded: boolean;
  /** Since when no member has streamed synchronously (epoch ms), or null. */
  noSyncSince: number | null;
  /** Members seen streaming as synchronous at the last check. */
  syncNodes: string[];
  updatedAt: string;
}

export const syncStatePath = (config: Config) => `${config.home}/sync.json`;

export function readSyncState(config: Config): SyncState {
  const fresh: SyncState = {
    mode: config.SYNC_MODE,
    setBy: null,
    setAt: null,
    primary: null,
    members: [],
    active: false,
    degraded: false,
    noSyncSince: null,
    syncNodes: [],
    updatedAt: new Date(0).toISOString(),
  };
  try {
    const saved = JSON.parse(readFileSync(syncStatePath(config), 'utf8')) as Partial<SyncState>;
    const merged = { ...fresh, ...saved };
    // A mode nobody chose in chat follows the configuration.
    if (!saved.setBy) merged.mode = config.SYNC_MODE;
    return merged;
  } catch {
    return fresh;
  }
}

export function writeSyncState(config: Config, state: SyncState): SyncState {
  const path = syncStatePath(config);
  mkdirPrivate(dirname(path));
  const next = { ...state, updatedAt: new Date().toISOString() };
  replacePrivate(path, JSON.stringify(next, null, 2));
  return next;
}

export const quoteName = (n: string) => `"${n.replace(/"/g, '""')}"`;

/** synchronous_standby_names for these members ('' = asynchronous). */
export const standbyNames = (members: string[]) => (members.length ? `ANY 1 (${members.map(quoteName).join(', ')})` : '');

/** The replicas that may carry the synchronous guarantee: failover-eligible nodes other than the primary. */
export function syncMembers(config: Config, primary: string): string[] {
  return config.nodes.filter((n) => n.failover && n.name !== primary).map((n) => n.name);
}

/** What a mode costs, for the confirmation card and the docs. */
export function modeCost(mode: SyncMode, degradeSeconds: number): string {
  if (mode === 'off') return 'Commits return as soon as the primary has them: fastest, but a crash of the primary can lose the last acknowledged commits (the failover card shows how many bytes).';
  if (mode === 'on')
    return `Every commit waits until one failover-eligible replica has flushed it (one network round trip more per commit; pgbench on loopback keeps about half or more of its TPS). A crash failover to that replica loses nothing. If no synchronous replica streams for ${degradeSeconds} s, it degrades to asynchronous so writes never hang — with a critical alert — and comes back by itself.`;
  return 'Every commit waits until one failover-eligible replica has flushed it, and it NEVER degrades: while no synchronous replica streams, every write waits (the application hangs) until one is back. Choose it only when losing a commit is worse than stopping writes.';
}
