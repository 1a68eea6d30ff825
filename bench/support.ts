// What several scenarios share: bench clusters whose nodes can all be promoted, a client that
// retries a write until a node accepts it, and the failover/rejoin moves driven through the router.
import pg from 'pg';
import type { NodeConfig } from '../src/config.js';
import { adminClientConfig } from '../src/db/tls.js';
import { waitFor } from '../src/cluster/wait.js';
import { startTestCluster, type TestCluster, type TestClusterOptions } from '../test/helpers/cluster.js';
import { newDockerCluster } from '../test/helpers/docker.js';

export type BenchRuntime = 'local' | 'docker';

let current: BenchRuntime = 'local';

/**
 * The runtime the scenarios run on now, and every figure is labelled with. run.ts runs the
 * scenarios once per runtime; benchCluster() builds the clusters on it.
 */
export const runtime = (): BenchRuntime => current;
export function useRuntime(r: BenchRuntime): void {
  current = r;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A cluster of n nodes that can all be promoted (n1 is the first primary), so roles can rotate. On
 * Docker: containers of their own compose project, subnet and loopback ports (test/helpers/docker.ts),
 * all removed by destroy().
 */
export async function benchCluster(n: number, extra: TestClusterOptions = {}): Promise<TestCluster> {
  const nodes = extra.nodes ?? ((ports: number[]) => ports.map((p, i) => `n${i + 1}:${p}`).join(','));
  if (current === 'local') return startTestCluster({ nodeCount: n, ...extra, nodes });
  const c = await newDockerCluster('bench', { nodeCount: n, nodes, env: extra.env });
  try {
    const up = await c.run('/cluster up');
    if (up.failed) throw new Error(`/cluster up on Docker failed: ${up.title} ${up.text ?? ''}`);
    await settled(c, 180_000);
    return c;
  } catch (e) {
    await c.destroy();
    throw e;
  }
}

/** Wait until one writable primary and every other node streams from it and has replayed its WAL. */
export async function settled(c: TestCluster, timeoutMs = 60_000): Promise<string> {
  const r = await waitFor(
    c.app.services.snapshot,
    (s) =>
      s.writable.length === 1 &&
      s.nodes.every((n) => n.name === s.primary || (n.up && n.streaming && n.upstream === s.primary && !n.fenced && (n.lagBytes ?? 1) === 0)),
    timeoutMs,
    100,
  );
  if (!r.ok) throw new Error(`cluster did not settle within ${timeoutMs} ms: ${r.snap.nodes.map((n) => `${n.name} ${n.role} up=${n.up} streaming=${n.streaming} upstream=${n.upstream}`).join('; ')}`);
  return r.snap.primary!;
}

/** A direct client to one node, like an application's (not the bot's pools). */
export async function clientFor(c: TestCluster, node: NodeConfig): Promise<pg.Client> {
  const client = new pg.Client(adminClientConfig(c.config, node, { connectionTimeoutMillis: 2000 }));
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/**
 * Retries `INSERT INTO bench_writes` on one node every millisecond until one commits; resolves
 * with performance.now() of the first commit. Read-only refusals are expected until promotion.
 */
export function firstWrite(client: pg.Client, timeoutMs = 30_000): { done: Promise<number>; cancel: () => void } {
  let cancelled = false;
  const done = (async () => {
    const until = performance.now() + timeoutMs;
    while (!cancelled && performance.now() < until) {
      try {
        await client.query('INSERT INTO bench_writes DEFAULT VALUES');
        return performance.now();
      } catch {
        await sleep(1);
      }
    }
    throw new Error(cancelled ? 'write probe cancelled' : `no write accepted within ${timeoutMs} ms`);
  })();
  done.catch(() => undefined);
  return { done, cancel: () => void (cancelled = true) };
}

export const WRITES_TABLE = 'CREATE TABLE IF NOT EXISTS bench_writes (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())';

export interface OpStep {
  step: string;
  ms: number;
  ok: boolean;
  detail: string;
}

/** The failover card for a target, after the primary died; returns the Confirm button and the plan. */
export async function failoverCard(c: TestCluster, target: string): Promise<{ confirm: string; lagBytes: number; riskBytes: number }> {
  const card = await c.run(`/cluster failover ${target}`);
  const plan = (card.data as { plan?: { lagBytes: number; riskBytes: number } } | undefined)?.plan;
  if (card.failed || !card.buttons?.length || !plan) throw new Error(`no failover card for ${target}: ${card.title} ${card.text ?? ''}`);
  return { confirm: card.buttons[0].actionId, lagBytes: plan.lagBytes, riskBytes: plan.riskBytes };
}

/** Press Confirm; throws unless the operation reports success. */
export async function confirm(c: TestCluster, actionId: string, what: string): Promise<{ steps: OpStep[]; totalMs: number }> {
  const r = await c.press(actionId);
  const data = r.data as { steps?: OpStep[]; totalMs?: number } | undefined;
  if (r.failed || !data?.steps) throw new Error(`${what} failed: ${r.title} ${r.text ?? ''} ${JSON.stringify(data?.steps ?? [])}`);
  return { steps: data.steps, totalMs: data.totalMs ?? NaN };
}

/** A killed or fenced former primary becomes a replica of the current primary again. */
export async function rejoin(c: TestCluster, name: string): Promise<void> {
  const r = await c.run(`/cluster rejoin ${name}`);
  if (r.failed) throw new Error(`rejoin ${name} failed: ${r.title} ${r.text ?? ''}`);
}

/** The next node after `current` in CLUSTER_NODES order. */
export function nextNode(c: TestCluster, current: string, skip: string[] = []): string {
  const names = c.config.nodes.map((n) => n.name);
  for (let i = 1; i <= names.length; i++) {
    const n = names[(names.indexOf(current) + i) % names.length];
    if (!skip.includes(n) && n !== current) return n;
  }
  throw new Error(`no node after ${current}`);
}

/** `pgbench -i -s SCALE` on n1 (the backup scenarios' data set); resolves with every database's size in bytes. */
export async function pgbenchData(c: TestCluster, scale: number, timeoutMs = 900_000): Promise<number> {
  const primary = c.app.services.node('n1');
  const init = await c.app.services.runtime.exec(primary, 'pgbench', ['-i', '-s', String(scale), '-q', '-h', primary.host, '-p', String(primary.port), '-U', c.config.POSTGRES_ADMIN_USER, c.config.PG_DATABASE], { timeoutMs });
  if (init.code !== 0) throw new Error(`pgbench -i failed: ${init.stderr.trim().split('\n').at(-1)}`);
  await c.sql('n1', 'CHECKPOINT');
  return Number((await c.sql<{ b: string }>('n1', 'SELECT sum(pg_database_size(datname))::text AS b FROM pg_database'))[0].b);
}
