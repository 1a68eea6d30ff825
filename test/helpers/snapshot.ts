// Constructed cluster snapshots for decision tests (the same decisions run on real clusters in
// test/integration): a node with sane defaults, and a snapshot whose writable list follows the roles.
import type { ClusterSnapshot, NodeStatus } from '../../src/cluster/inspect.js';

export function node(name: string, over: Partial<NodeStatus> = {}): NodeStatus {
  return {
    name, host: '127.0.0.1', port: 1, failover: name !== 'readonly', role: 'replica', up: true, running: true, error: null, timeline: 1,
    lsn: null, receiveLsn: null, replayLsn: null, lagBytes: 0, lagSeconds: 0, replayPaused: false, streaming: false, upstream: null,
    syncState: null, fenced: false, archiver: null, replication: [], version: 150000, startedAt: null, ...over,
  };
}

export function snap(nodes: NodeStatus[]): ClusterSnapshot {
  const writable = nodes.filter((n) => n.role === 'primary').map((n) => n.name);
  return { takenAt: '', durationMs: 0, nodes, primary: writable.length === 1 ? writable[0] : null, writable };
}
