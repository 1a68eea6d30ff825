// Cluster lifecycle: `up` creates what is missing and starts what exists (never re-initialises);
// `down` stops cleanly, the primary first so every replica has received its shutdown checkpoint.
import type { Config, NodeConfig } from '../config.js';
import type { NodePools } from '../db/pools.js';
import { errorLine } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { inspectCluster } from './inspect.js';

export interface NodeOutcome {
  node: string;
  action: 'initialised' | 'cloned' | 'started' | 'already running' | 'stopped' | 'already stopped' | 'failed';
  ms: number;
  error?: string;
}

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
  return config.nodes.map((n) => outcomes.find((o) => o.node === n.name)!).filter(Boolean);
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
