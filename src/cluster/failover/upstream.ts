// Which node a replica is configured to follow (primary_conninfo), even when its primary is dead
// and pg_stat_wal_receiver is empty. The snapshot read it in the same round trip, under its deadline.
import type { ClusterSnapshot } from '../inspect.js';

/** Fill `upstream` from primary_conninfo for replicas that are not streaming. */
export function withConfiguredUpstreams(snap: ClusterSnapshot): ClusterSnapshot {
  for (const n of snap.nodes) {
    if (n.up && n.role === 'replica' && !n.upstream) n.upstream = n.configuredUpstream ?? null;
  }
  return snap;
}
