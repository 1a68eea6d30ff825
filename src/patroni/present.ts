// Rendering the Patroni view: the shared status card plus a table of Patroni members.
import type { Reply } from '../chat/reply.js';
import { formatBytes } from '../cluster/lsn.js';
import { statusCard } from '../present/status-card.js';
import { protectionsLine, type Protection } from './protections.js';
import type { PatroniSnapshot } from './snapshot.js';

type Extra = { label: string; value: string; data?: Record<string, unknown> };

export function patroniStatusCard(snap: PatroniSnapshot, extras: Extra[] = [], protections: Protection[] | null = null): Reply {
  const p = snap.patroni;
  const card = statusCard(snap, extras);
  const rows = p.members.map((m) => [
    m.name + (m.node && m.node !== m.name ? ` (${m.node})` : '') + (m.node ? '' : ' (not in CLUSTER_NODES)'),
    m.role,
    m.state || '–',
    m.timeline === null ? '–' : String(m.timeline),
    m.role === 'leader' ? '–' : formatBytes(m.lagBytes),
    [m.nofailover ? 'nofailover' : '', m.pendingRestart ? 'pending restart' : ''].filter(Boolean).join(', ') || '–',
  ]);
  const fields = [
    { label: 'Patroni', value: p.error ? `UNREACHABLE — ${p.error}` : `leader ${p.leader ?? 'NONE'}${p.paused ? ', PAUSED (maintenance: no automatic failover)' : ', automatic failover on'}`, short: true },
    ...(p.disagreements.length ? [{ label: 'Patroni vs PostgreSQL', value: p.disagreements.join('; ') }] : []),
    ...(protections ? [{ label: 'Protections', value: protectionsLine(protections) }] : []),
  ];
  const severity = p.error || !p.leader ? 'crit' : p.paused && card.severity === 'ok' ? 'warn' : card.severity;
  return {
    ...card,
    severity,
    tables: [...(card.tables ?? []), { title: 'Patroni members', columns: ['member', 'role', 'state', 'tl', 'lag', 'tags'], rows }],
    fields: [...fields, ...(card.fields ?? [])],
    data: { ...(card.data as Record<string, unknown>), backend: 'patroni', patroni: { ...p, raw: undefined, protections } },
  };
}
