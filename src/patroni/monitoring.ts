// The Patroni backend's part of the one monitor (src/monitor/backend.ts): the watch's rules (leader
// lost and Patroni's own promotion, leader changes, member states, pause, Patroni's REST API (DCS)
// unreachable, lag past FAILOVER_MAX_LAG_BYTES, discarded writes, no replica running, the write
// endpoint off the leader) fire through the monitor's alert manager beside the native rules, and the
// sync rules read Patroni's synchronous_mode. One per backend object: it keeps state between looks.
import type { Services } from '../core/context.js';
import type { ClusterSnapshot } from '../cluster/inspect.js';
import type { SyncState } from '../cluster/sync/state.js';
import type { BackendMonitoring } from '../monitor/backend.js';
import type { RuleId } from '../monitor/rules.js';
import { isPatroniSnapshot, patroniClient } from './snapshot.js';
import { patroniSyncState } from './sync-state.js';

// The watch says these with Patroni's word (the leader key, member states, promotion time).
const REPLACES: ReadonlySet<RuleId> = new Set<RuleId>(['primary_down', 'node_down', 'no_primary']);

export function createPatroniMonitoring(): BackendMonitoring {
  let sync: SyncState | null = null;
  return {
    name: 'patroni',
    replaces: REPLACES,
    owns: (rule) => PATRONI_RULE_IDS.has(rule),
    async start(services, alerts) {
      const { Watcher } = await import('./watch.js');
      const w = new Watcher(services, alerts);
      w.start();
      return w;
    },
    async syncState(services: Services, snapshot: ClusterSnapshot, now: number) {
      const members = isPatroniSnapshot(snapshot) ? snapshot.patroni.raw?.members : undefined;
      // Patroni unreachable: keep the last state rather than guess (the unreachable alert says why).
      const cfg = members ? await patroniClient(services).dynamicConfig().catch(() => null) : null;
      if (members && cfg) sync = patroniSyncState(cfg, members, sync, now);
      return sync ?? patroniSyncState({}, [], null, now);
    },
    busy: (services) => services.patroni.leaderChange ?? services.patroni.memberOp,
  };
}

/** The watch's rule ids (src/patroni/watch.ts), listed here so the monitor need not load the watch to know them. */
const PATRONI_RULE_IDS: ReadonlySet<string> = new Set([
  'patroni_unreachable',
  'primary_down',
  'patroni_paused',
  'member_not_running',
  'failover_lag',
  'no_replica_running',
  'endpoint_not_repointed',
  'leader_changed',
  'writes_discarded',
]);
