// Promotion, proven: pg_promote, the end of recovery observed, then a real write on the new primary.
import type { NodeConfig } from '../../config.js';
import type { Services } from '../../core/context.js';
import type { PoolClient } from 'pg';
import { parseLsn } from '../lsn.js';

const PROMOTE_TIMEOUT_MS = 60_000;

/**
 * A standby whose primary is gone can miss the promote request: it checks for it only between its
 * stream and archive attempts, and when the request's wakeup lands just before it goes to sleep for
 * wal_retrieve_retry_interval it sleeps that long anyway (promote steps of 1.1 s with our 1 s,
 * against 0.15–0.3 s otherwise). The request is sent again every ASK_AGAIN_MS until recovery ends:
 * each one wakes the sleep. A request left over after the promotion is harmless: PostgreSQL removes
 * promote signal files at its next start.
 */
const ASK_AGAIN_MS = 100;

async function askAgain(client: PoolClient): Promise<void> {
  try {
    await client.query('SELECT pg_promote(false)');
  } catch (e) {
    // Recovery ended between the check and the request ("recovery is not in progress"): done.
    if (!/recovery is not in progress/.test((e as Error).message)) throw e;
  }
}

/**
 * pg_promote(wait => true) checks for the end of recovery only every 100 ms, which made it the
 * slowest part of a failover: ask without waiting, then watch pg_is_in_recovery() on one connection
 * every ~2 ms (same outcome, observed as soon as it holds).
 */
export async function promoteNode(s: Services, node: NodeConfig): Promise<string> {
  const client = await s.pools.pool(node).connect();
  const ignore = () => undefined; // a server dying now rejects the query in flight; no crash from the event
  client.on('error', ignore);
  let broken = false;
  try {
    const asked = await client.query<{ promoted: boolean }>('SELECT pg_promote(false) AS promoted');
    if (!asked.rows[0]?.promoted) throw new Error(`${node.name} refused the promotion request — check /cluster logs ${node.name}`);
    const until = performance.now() + PROMOTE_TIMEOUT_MS;
    let asking = performance.now();
    for (;;) {
      const rec = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      if (!rec.rows[0].r) return `${node.name} is out of recovery`;
      if (performance.now() > until) throw new Error(`${node.name} did not finish promotion within ${PROMOTE_TIMEOUT_MS / 1000} s; it may still be in progress — check /cluster status`);
      if (performance.now() - asking >= ASK_AGAIN_MS) {
        asking = performance.now();
        await askAgain(client);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  } catch (e) {
    broken = true;
    throw e;
  } finally {
    if (!broken) client.removeListener('error', ignore); // a dropped one may still hear from a dying server
    client.release(broken);
  }
}

export async function verifyWrite(s: Services, node: NodeConfig, op: string, by: string): Promise<string> {
  const r = await s.pools.query<{ id: string }>(
    node,
    `INSERT INTO proyecto.logs_replicacion (evento, nodo, usuario, detalle) VALUES ($1, $2, $3, $4) RETURNING id`,
    [`${op}_verify_write`, node.name, by, JSON.stringify({ op })],
  );
  return `wrote proyecto.logs_replicacion id ${r.rows[0].id} on ${node.name}`;
}

export interface TimelineSwitch {
  timeline: number;
  /** Where the new timeline forked from the old one: WAL beyond this on the old timeline is divergent. */
  switchLsn: string;
}

/** The new primary's timeline and the switch point from its timeline history file. */
export async function timelineSwitch(s: Services, node: NodeConfig): Promise<TimelineSwitch> {
  const t = await s.pools.query<{ tli: number }>(node, `SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS tli`);
  const timeline = t.rows[0].tli;
  const file = `pg_wal/${timeline.toString(16).toUpperCase().padStart(8, '0')}.history`;
  const h = await s.pools.query<{ body: string }>(node, 'SELECT pg_read_file($1) AS body', [file]);
  const last = h.rows[0].body.trim().split('\n').filter((l) => /^\d+\s/.test(l)).at(-1);
  const switchLsn = last?.split(/\s+/)[1];
  if (!switchLsn || parseLsn(switchLsn) === null) throw new Error(`cannot read the switch point from ${file} on ${node.name}`);
  return { timeline, switchLsn };
}
