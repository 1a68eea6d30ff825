// Audit lines → proyecto.logs_replicacion on the writable primary (idempotent by audit id).
import type { AuditEntry } from '../core/audit.js';
import type { Services } from '../core/context.js';

export async function mirrorAudit(s: Services, entries: AuditEntry[]): Promise<void> {
  const snap = await s.snapshot();
  if (!snap.primary) throw new Error('no writable primary for the audit mirror');
  const rows = entries.map((e) => ({
    audit_id: e.id,
    evento: [e.kind, e.command, e.outcome].filter(Boolean).join(' '),
    nodo: e.node ?? null,
    usuario: `${e.user} (${e.platform})`,
    detalle: e,
    fecha: e.at,
  }));
  await s.pools.query(
    s.node(snap.primary),
    `INSERT INTO proyecto.logs_replicacion (audit_id, evento, nodo, usuario, detalle, fecha)
     SELECT audit_id, evento, nodo, usuario, detalle, fecha
     FROM json_to_recordset($1::json) AS x(audit_id text, evento text, nodo text, usuario text, detalle jsonb, fecha timestamptz)
     ON CONFLICT (audit_id) DO NOTHING`,
    [JSON.stringify(rows)],
  );
}
