// Cluster lifecycle: `up` creates what is missing and starts what exists (never re-initialises);
// `down` stops cleanly, the primary first so every replica has received its shutdown checkpoint.
import type { Config, NodeConfig } from '../config.js';
import type { NodePools } from '../db/pools.js';
import { errorLine } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { inspectCluster } from './inspect.js';
import { nodeIn, waitFor } from './wait.js';

export interface NodeOutcome {
  node: string;
  action: 'initialised' | 'cloned' | 'started' | 'already running' | 'stopped' | 'already stopped' | 'failed';
  ms: number;
  error?: string;
  /** For a replica `up` started or cloned: "streaming after N ms", or why it is not streaming yet. */
  replication?: string;
  /** True when the node came up but does not stream yet: the command is then done with warnings. */
  warning?: boolean;
}

/** How long `up` waits for the replicas it started or cloned to stream. */
const STREAMING_TIMEOUT_MS = 30_000;

export interface LifecycleDeps {
  config: Config;
  runtime: Runtime;
  pools: NodePools;
  progress?: (line: string) => void;
}

export async function clusterUp(deps: LifecycleDeps): Promise<NodeOutcome[]> {
  const { config, runtime } = deps;
  await runtime.prepare();
  const provisioned = await Promise.all(config.nodes.map((n) => runtime.isProvisioned(n)));
  const outcomes: NodeOutcome[] = [];

  if (!provisioned.some(Boolean)) {
    const first = config.nodes[0];
    outcomes.push(await timed(first, 'initialised', () => runtime.initPrimary(first), deps));
  } else {
    // Start existing nodes in parallel; each reports its own failure.
    const existing = config.nodes.filter((_, i) => provisioned[i]);
    outcomes.push(
      ...(await Promise.all(
        existing.map(async (n) => {
          const wasRunning = await runtime.isRunning(n);
          if (wasRunning) return { node: n.name, action: 'already running' as const, ms: 0 };
          return timed(n, 'started', () => runtime.start(n), deps);
        }),
      )),
    );
  }

  const missing = config.nodes.filter((n, i) => !provisioned[i] && !outcomes.some((o) => o.node === n.name));
  if (missing.length > 0) {
    const source = await currentPrimary(deps);
    for (const n of missing) {
      if (!source) {
        outcomes.push({ node: n.name, action: 'failed', ms: 0, error: 'no writable primary to clone from' });
        continue;
      }
      deps.progress?.(`cloning ${n.name} from ${source.name} (pg_basebackup)…`);
      outcomes.push(await timed(n, 'cloned', () => runtime.cloneReplica(n, source), deps));
    }
  }
  await awaitStreaming(deps, outcomes);
  return config.nodes.map((n) => outcomes.find((o) => o.node === n.name)!).filter(Boolean);
}

/**
 * A replica is up only once it streams: wait (bounded) until every replica this call started or
 * cloned streams from a primary, and say per node how long it took — or what it last showed.
 */
async function awaitStreaming(deps: LifecycleDeps, outcomes: NodeOutcome[]): Promise<void> {
  const t0 = performance.now();
  const brought = outcomes.filter((o) => o.action === 'started' || o.action === 'cloned');
  const pending = new Set(brought.map((o) => o.node));
  const r = await waitFor(() => inspectCluster(deps), (snap) => {
    for (const name of pending) {
      const n = nodeIn(snap, name);
      const settled = n.role === 'primary' || n.fenced || (n.role === 'replica' && n.streaming);
      if (!settled) continue;
      pending.delete(name);
      const o = brought.find((x) => x.node === name)!;
      if (n.role === 'replica') o.replication = `streaming from ${n.upstream ?? '?'} after ${Math.round(performance.now() - t0)} ms`;
    }
    return pending.size === 0;
  }, STREAMING_TIMEOUT_MS, 100);
  for (const name of pending) {
    const n = nodeIn(r.snap, name);
    const o = brought.find((x) => x.node === name)!;
    o.warning = true;
    o.replication = `not streaming after ${Math.round(r.ms / 1000)} s (${n.up ? `role ${n.role}${n.error ? `: ${n.error}` : ''}` : `down: ${n.error ?? 'no answer'}`}) — see /cluster logs ${name}, then /cluster follow ${name}`;
  }
}

export async function clusterDown(deps: LifecycleDeps): Promise<NodeOutcome[]> {
  const snap = await inspectCluster(deps);
  const order = [...deps.config.nodes].sort((a, b) => rank(snap.primary, b) - rank(snap.primary, a));
  const outcomes: NodeOutcome[] = [];
  for (const n of order) {
    if (!(await deps.runtime.isRunning(n))) {
      outcomes.push({ node: n.name, action: 'already stopped', ms: 0 });
      continue;
    }
    outcomes.push(await timed(n, 'stopped', () => deps.runtime.stop(n, 'fast'), deps));
    await deps.pools.reset(n);
  }
  return deps.config.nodes.map((n) => outcomes.find((o) => o.node === n.name)!);
}

const rank = (primary: string | null, n: NodeConfig) => (n.name === primary ? 1 : 0);

async function currentPrimary(deps: LifecycleDeps): Promise<NodeConfig | null> {
  const snap = await inspectCluster(deps);
  return deps.config.nodes.find((n) => n.name === snap.primary) ?? null;
}

async function timed(node: NodeConfig, action: NodeOutcome['action'], fn: () => Promise<void>, deps: LifecycleDeps): Promise<NodeOutcome> {
  const t = performance.now();
  try {
    await fn();
    deps.progress?.(`${node.name}: ${action}`);
    return { node: node.name, action, ms: Math.round(performance.now() - t) };
  } catch (e) {
    return { node: node.name, action: 'failed', ms: Math.round(performance.now() - t), error: errorLine(e) };
  }
}
