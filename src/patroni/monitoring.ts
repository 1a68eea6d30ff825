// The Patroni backend's part of the one monitor (src/monitor/backend.ts): the watcher's rules —
// leader lost and Patroni's own promotion, leader changes, member states, pause, Patroni's REST API
// (DCS) unreachable, lag past FAILOVER_MAX_LAG_BYTES, discarded writes, no replica running — run
// beside the native loop, which keeps /metrics, /healthz, the report, lag history and the other rules.
import type { BackendMonitoring } from '../monitor/backend.js';
import type { RuleId } from '../monitor/rules.js';

// The watcher says these with Patroni's word (the leader key, member states, promotion time).
const REPLACES: ReadonlySet<RuleId> = new Set<RuleId>(['primary_down', 'node_down', 'no_primary', 'lag_bytes']);

export const patroniMonitoring: BackendMonitoring = {
  name: 'patroni',
  replaces: REPLACES,
  async start(services, notifier) {
    const { Watcher } = await import('./watch.js');
    const w = new Watcher(services, notifier);
    w.start();
    return w;
  },
  busy: (services) => services.patroni.leaderChange ?? services.patroni.memberOp,
};
