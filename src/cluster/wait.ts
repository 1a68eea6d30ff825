// Execute as intent, then poll for the outcome with an honest timeout.
import type { ClusterSnapshot, NodeStatus } from './inspect.js';

export async function waitFor<T = ClusterSnapshot>(
  snapshot: () => Promise<T>,
  ok: (s: T) => boolean,
  timeoutMs: number,
  intervalMs = 100,
): Promise<{ ok: boolean; snap: T; ms: number }> {
  const t0 = performance.now();
  for (;;) {
    const snap = await snapshot();
    const ms = Math.round(performance.now() - t0);
    if (ok(snap)) return { ok: true, snap, ms };
    if (ms > timeoutMs) return { ok: false, snap, ms };
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const nodeIn = (s: ClusterSnapshot, name: string): NodeStatus => s.nodes.find((n) => n.name === name)!;
