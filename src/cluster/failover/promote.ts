// Promotion, proven: pg_promote(wait => true), then a real write on the new primary.
import type { NodeConfig } from '../../config.js';
import type { Services } from '../../core/context.js';
import { parseLsn } from '../lsn.js';
import { longQuery } from './long-query.js';

export async function promoteNode(s: Services, node: NodeConfig): Promise<string> {
  const rows = await longQuery<{ promoted: boolean }>(s, node, 'SELECT pg_promote(true, 60) AS promoted', 65_000);
  if (!rows[0]?.promoted) throw new Error(`${node.name} did not finish promotion within 60 s; it may still be in progress — check /cluster status`);
  const rec = await s.pools.query<{ r: boolean }>(node, 'SELECT pg_is_in_recovery() AS r');
  if (rec.rows[0].r) throw new Error(`${node.name} still reports recovery after pg_promote`);
  return `${node.name} is out of recovery`;
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
