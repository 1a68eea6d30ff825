// Putting a synchronous-replication mode into force on the primary: ALTER SYSTEM
// synchronous_standby_names + reload, with the state file written in the pessimistic order.
import type { NodeConfig } from '../../config.js';
import type { Services } from '../../core/context.js';
import { UserError } from '../../errors.js';
import { readSyncState, standbyNames, syncMembers, writeSyncState, type SyncMode, type SyncState } from './state.js';

const literal = (v: string) => `'${v.replace(/'/g, "''")}'`;

export interface PrimarySync {
  inRecovery: boolean;
  names: string;
  /** application_name of replicas streaming (caught up) from this node. */
  streaming: string[];
  /** Those of them the primary counts as synchronous (sync_state sync or quorum). */
  synchronous: string[];
}

export async function readPrimarySync(s: Services, node: NodeConfig): Promise<PrimarySync> {
  const r = await s.pools.query<{ r: boolean; names: string; peers: Array<{ a: string; st: string; ss: string }> | null }>(
    node,
    `SELECT pg_is_in_recovery() AS r, current_setting('synchronous_standby_names') AS names,
            (SELECT json_agg(json_build_object('a', application_name, 'st', state, 'ss', sync_state)) FROM pg_stat_replication) AS peers`,
  );
  const row = r.rows[0];
  const peers = row.peers ?? [];
  return {
    inRecovery: row.r,
    names: row.names,
    streaming: peers.filter((p) => p.st === 'streaming').map((p) => p.a),
    synchronous: peers.filter((p) => p.st === 'streaming' && (p.ss === 'sync' || p.ss === 'quorum')).map((p) => p.a),
  };
}

export async function setStandbyNames(s: Services, node: NodeConfig, value: string): Promise<void> {
  await s.pools.query(node, `ALTER SYSTEM SET synchronous_standby_names = ${literal(value)}`);
  await s.pools.query(node, 'SELECT pg_reload_conf()');
}

export interface ApplyResult {
  state: SyncState;
  line: string;
}

/**
 * Put `mode` in force on `primary`. `on` with no member streaming starts degraded (asynchronous)
 * rather than making writes hang; the guard restores it when a member streams.
 */
export async function applySync(s: Services, primary: NodeConfig, mode: SyncMode, chosenBy?: string): Promise<ApplyResult> {
  const { config } = s;
  const prev = readSyncState(config);
  const base: SyncState = {
    ...prev,
    mode,
    ...(chosenBy ? { setBy: chosenBy, setAt: new Date().toISOString() } : {}),
    primary: primary.name,
  };
  const members = syncMembers(config, primary.name);
  if (mode === 'off') {
    const state = writeSyncState(config, { ...base, members: [], active: false, degraded: false, noSyncSince: null, syncNodes: [] });
    await setStandbyNames(s, primary, '');
    return { state, line: `asynchronous: synchronous_standby_names cleared on ${primary.name}` };
  }
  if (members.length === 0) {
    throw new UserError(`sync ${mode} needs a failover-eligible replica besides ${primary.name}, and there is none`, 'add one to CLUSTER_NODES (without :nofailover), then try again', 'precondition');
  }
  const now = await readPrimarySync(s, primary);
  const streaming = members.filter((m) => now.streaming.includes(m));
  if (mode === 'on' && streaming.length === 0) {
    const state = writeSyncState(config, { ...base, members, active: false, degraded: true, noSyncSince: prev.noSyncSince ?? Date.now(), syncNodes: [] });
    await setStandbyNames(s, primary, '');
    return { state, line: `DEGRADED to asynchronous on ${primary.name}: none of ${members.join(', ')} is streaming — restored by itself when one streams` };
  }
  await setStandbyNames(s, primary, standbyNames(members));
  const state = writeSyncState(config, {
    ...base,
    members,
    active: true,
    degraded: false,
    noSyncSince: streaming.length ? null : (prev.noSyncSince ?? Date.now()),
    syncNodes: streaming,
  });
  const who = streaming.length ? `${streaming.join(', ')} streaming` : `none of them streaming yet: writes WAIT until one does (strict)`;
  return { state, line: `synchronous on ${primary.name}: ${standbyNames(members)} — ${who}` };
}

/** Whether sync needs any care in a failover (mode chosen, or settings still in force). */
export function syncInUse(s: Services): boolean {
  const st = readSyncState(s.config);
  return st.mode !== 'off' || st.active;
}

/**
 * Before promoting `target`: clear synchronous_standby_names it may carry from its clone, so the
 * promotion's own verify write never waits for a replica that cannot answer yet.
 */
export async function prepareSyncForPromotion(s: Services, target: NodeConfig): Promise<string> {
  await setStandbyNames(s, target, '');
  return `${target.name}: synchronous_standby_names cleared until it is the primary`;
}

/** After a promotion has been proven by a write: put the chosen mode in force on the new primary. */
export async function applySyncAfterPromotion(s: Services, primary: NodeConfig): Promise<{ line: string; warning: string | null }> {
  const mode = readSyncState(s.config).mode;
  const r = await applySync(s, primary, mode);
  const warning = r.state.degraded
    ? `synchronous replication is degraded on ${primary.name}: no synchronous replica streams yet (${r.state.members.join(', ')}) — commits are NOT protected until one streams (/cluster rejoin)`
    : mode === 'strict' && r.state.syncNodes.length === 0
      ? `strict synchronous replication: writes on ${primary.name} WAIT until one of ${r.state.members.join(', ')} streams — /cluster rejoin it`
      : null;
  return { line: r.line, warning };
}
