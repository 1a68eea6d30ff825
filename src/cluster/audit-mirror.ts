// Audit lines → proyecto.logs_replicacion on the writable primary (idempotent by audit id).
import type { AuditEntry } from '../core/audit.js';
import type { Services } from '../core/context.js';

// The last node that took a mirror write; tried first, so a busy bot does not inspect the
// whole cluster for every audit line. A failure (read-only, gone) falls back to a fresh snapshot.
const lastPrimary = new WeakMap<Services, string>();

export async function mirrorAudit(s: Services, entries: AuditEntry[]): Promise<void> {
  const known = lastPrimary.get(s);
  if (known) {
    try {
      await insert(s, known, entries);
      return;
    } catch {
      lastPrimary.delete(s);
    }
  }
  const snap = await s.snapshot();
  if (!snap.primary) throw new Error('no writable primary for the audit mirror');
  await insert(s, snap.primary, entries);
  lastPrimary.set(s, snap.primary);
}

async function insert(s: Services, primary: string, entries: AuditEntry[]): Promise<void> {
  const rows = entries.map((e) => ({
    audit_id: e.id,
    evento: [e.kind, e.command, e.outcome].filter(Boolean).join(' '),
    nodo: e.node ?? null,
    usuario: `${e.user} (${e.platform})`,
    detalle: e,
    fecha: e.at,
  }));
  await s.pools.query(
    s.node(primary),
    `INSERT INTO proyecto.logs_replicacion (audit_id, evento, nodo, usuario, detalle, fecha)
     SELECT audit_id, evento, nodo, usuario, detalle, fecha
     FROM json_to_recordset($1::json) AS x(audit_id text, evento text, nodo text, usuario text, detalle jsonb, fecha timestamptz)
     ON CONFLICT (audit_id) DO NOTHING`,
    [JSON.stringify(rows)],
  );
}
