// Where a backup is taken from: a healthy streaming replica by default (pgBackRest's backup-standby:
// the primary only starts and stops the backup, the standby's files are copied), else the primary.
import type { ClusterSnapshot, NodeStatus } from '../cluster/inspect.js';

// `error` set on a node that is up: the bot only knows it second-hand (e.g. from Patroni, not SQL).
const healthyReplica = (n: NodeStatus) => n.role === 'replica' && n.up && n.streaming && !n.fenced && !n.replayPaused && !n.error;

/**
 * Where to take the backup from, and why; or the reason no node can serve one.
 * Among healthy replicas the least lagged wins; on a tie a no-failover node, so the failover
 * candidate is spared the read load.
 */
export function chooseBackupSource(snap: ClusterSnapshot, prefer: 'replica' | 'primary'): { node: string; reason: string } | { error: string } {
  const replicas = snap.nodes.filter(healthyReplica).sort((a, b) => (a.lagBytes ?? 0) - (b.lagBytes ?? 0) || Number(a.failover) - Number(b.failover));
  if (prefer === 'replica' && replicas.length) return { node: replicas[0].name, reason: `healthy streaming replica (lag ${replicas[0].lagBytes ?? 0} B)` };
  if (snap.primary) {
    return { node: snap.primary, reason: prefer === 'primary' ? 'BACKUP_FROM=primary' : 'no healthy streaming replica, so the primary' };
  }
  const down = snap.nodes.map((n) => `${n.name}: ${n.up ? n.role : (n.error ?? 'down')}`).join(', ');
  return { error: `no node can serve a backup (${down})` };
}
