// The catch-up scenario's moves, for a local or a Docker test cluster: rows committed one by one
// (with the WAL position after each commit), waiting for a node to have them, and cutting a replica
// off from its upstream while the others keep streaming.
import type { Reply } from '../../src/chat/reply.js';
import { until } from './docker.js';

export interface SqlCluster {
  sql<R extends Record<string, unknown> = Record<string, unknown>>(node: string, text: string, params?: unknown[]): Promise<R[]>;
  run(text: string): Promise<Reply>;
}

export async function rowCount(c: SqlCluster, node: string, table: string): Promise<number> {
  return (await c.sql<{ n: number }>(node, `SELECT count(*)::int AS n FROM ${table}`))[0].n;
}

/** Rows committed one at a time on `primary`; each id → the WAL position right after its commit. */
export async function commitRows(c: SqlCluster, primary: string, table: string, from: number, to: number): Promise<Map<number, string>> {
  const after = new Map<number, string>();
  for (let id = from; id <= to; id++) {
    await c.sql(primary, `INSERT INTO ${table} (id) VALUES ($1)`, [id]);
    after.set(id, (await c.sql<{ l: string }>(primary, 'SELECT pg_current_wal_lsn()::text AS l'))[0].l);
  }
  return after;
}

/** Wait until `node` has exactly `n` rows in `table` (the table may not exist there yet). */
export async function waitRows(c: SqlCluster, node: string, table: string, n: number, timeoutMs = 60_000): Promise<void> {
  let last = -1;
  await until(`${node} to have ${n} rows of ${table}`, async () => {
    last = await rowCount(c, node, table).catch(() => -1);
    if (last !== n) throw new Error(`last seen ${last}`);
    return true;
  }, timeoutMs, 100);
}

/** The replica stops receiving WAL (no upstream); the others keep streaming. */
export async function cutOff(c: SqlCluster, node: string): Promise<void> {
  await c.sql(node, "ALTER SYSTEM SET primary_conninfo = ''");
  await c.sql(node, 'SELECT pg_reload_conf()');
  await until(`${node} to stop streaming`, async () => {
    const s = (await c.run('/cluster status')).data as { nodes: Array<{ name: string; streaming: boolean }> };
    if (s.nodes.find((x) => x.name === node)!.streaming) throw new Error('still streaming');
    return true;
  }, 30_000, 100);
}
