// Starting, stopping and restarting one node, with the outcome observed (not assumed).
import type { NodeConfig } from '../config.js';
import type { Services } from '../core/context.js';
import { formatBytes } from './lsn.js';
import { nodeIn, waitFor } from './wait.js';

export type NodeOp = 'start' | 'stop' | 'restart';

export interface NodeOpResult {
  ok: boolean;
  line: string;
  ms: number;
}

export async function runNodeOp(s: Services, node: NodeConfig, op: NodeOp): Promise<NodeOpResult> {
  const t0 = performance.now();
  if (op === 'stop') {
    await s.runtime.stop(node, 'fast');
    await s.pools.reset(node);
    const running = await s.runtime.isRunning(node);
    return { ok: !running, line: running ? `${node.name} is still running` : `${node.name} stopped`, ms: since(t0) };
  }
  if (op === 'restart') {
    await s.runtime.stop(node, 'fast');
    await s.pools.reset(node);
  }
  await s.runtime.start(node);
  // A replica should be streaming again within a few seconds; say honestly if not.
  const r = await waitFor(s.snapshot, (snap) => {
    const n = nodeIn(snap, node.name);
    return n.up && (n.role === 'primary' || n.streaming || n.fenced);
  }, 10_000, 150);
  const n = nodeIn(r.snap, node.name);
  const verb = op === 'start' ? 'started' : 'restarted';
  if (!n.up) return { ok: false, line: `${node.name} ${verb}, but does not answer queries yet: ${n.error ?? 'unknown'}`, ms: since(t0) };
  if (n.fenced) return { ok: true, line: `${node.name} ${verb} read-only: FENCED (a former primary), it cannot accept writes — /cluster rejoin ${node.name} makes it a replica`, ms: since(t0) };
  if (n.role === 'primary') return { ok: true, line: `${node.name} ${verb} — primary, read/write`, ms: since(t0) };
  if (n.streaming) return { ok: true, line: `${node.name} ${verb} — replica streaming from ${n.upstream ?? '?'}, lag ${formatBytes(n.lagBytes)}`, ms: since(t0) };
  return { ok: false, line: `${node.name} ${verb} as a replica but is not streaming after ${Math.round(r.ms / 1000)} s — see /cluster logs ${node.name}`, ms: since(t0) };
}

const since = (t0: number) => Math.round(performance.now() - t0);
