// Statements that may legitimately take longer than PG_QUERY_TIMEOUT_MS (promotion, CHECKPOINT):
// one pooled connection with the server and client timeouts lifted for this statement only.
import type { NodeConfig } from '../../config.js';
import type { Services } from '../../core/context.js';

export async function longQuery<R extends Record<string, unknown>>(s: Services, node: NodeConfig, sql: string, timeoutMs: number): Promise<R[]> {
  const client = await s.pools.pool(node).connect();
  let broken = false;
  try {
    await client.query(`SET statement_timeout = ${Math.round(timeoutMs)}`);
    const r = await client.query<R>({ text: sql, query_timeout: timeoutMs + 5000 } as never);
    await client.query('RESET statement_timeout');
    return r.rows;
  } catch (e) {
    broken = true;
    throw e;
  } finally {
    // A connection that failed mid-statement is not given back to the pool.
    client.release(broken);
  }
}

/** CHECKPOINT, which may take minutes of writing on a busy server. */
export async function checkpoint(s: Services, node: NodeConfig): Promise<void> {
  await longQuery(s, node, 'CHECKPOINT', 10 * 60_000);
}
