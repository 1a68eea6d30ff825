// The status card: a ClusterSnapshot rendered as a platform-neutral Reply. Used by
// /cluster status, the periodic health report and alerts.
import type { Field, Reply, Severity } from '../chat/reply.js';
import type { ClusterSnapshot, NodeStatus } from '../cluster/inspect.js';
import { formatBytes, formatSeconds } from '../cluster/lsn.js';

export function nodeState(n: NodeStatus): string {
  if (!n.up) {
    const down = `${n.error ?? 'down'}${n.cause ? ` — ${n.cause}` : ''}`;
    return n.fenced ? `FENCED, ${down}` : down;
  }
  const parts: string[] = [];
  if (n.fenced) parts.push('FENCED (read-only until rejoin)');
  if (n.role === 'primary') parts.push('read/write');
  else if (n.replayPaused) parts.push('replay paused');
  else parts.push(n.streaming ? 'streaming' : 'not streaming');
  return parts.join(', ');
}

export function clusterSeverity(s: ClusterSnapshot): Severity {
  if (s.writable.length !== 1) return 'crit';
  const replicas = s.nodes.filter((n) => n.name !== s.primary);
  if (replicas.some((n) => !n.up || (!n.streaming && !n.fenced) || n.replayPaused)) return 'warn';
  if (s.nodes.some((n) => n.archiver?.failing)) return 'warn';
  return 'ok';
}

export function headline(s: ClusterSnapshot): string {
  const up = s.nodes.filter((n) => n.up).length;
  if (s.writable.length > 1) return `SPLIT BRAIN: ${s.writable.join(' and ')} all accept writes`;
  if (!s.primary) return `no writable primary (${up}/${s.nodes.length} nodes up)`;
  const streaming = s.nodes.filter((n) => n.role === 'replica' && n.streaming).length;
  const replicas = s.nodes.length - 1;
  return `primary ${s.primary}, ${streaming}/${replicas} replicas streaming`;
}

export function writeEndpoint(s: ClusterSnapshot): string | null {
  const p = s.nodes.find((n) => n.name === s.primary);
  return p ? `${p.host}:${p.port}` : null;
}

function lagText(n: NodeStatus): string {
  if (n.role !== 'replica') return '–';
  return `${formatBytes(n.lagBytes)} / ${formatSeconds(n.lagSeconds)}`;
}

function archiverField(s: ClusterSnapshot): Field {
  const a = s.nodes.find((n) => n.name === s.primary)?.archiver;
  if (!a) return { label: 'WAL archiver', value: 'unknown (no primary)', short: true };
  if (a.failing) return { label: 'WAL archiver', value: `FAILING since ${a.lastFailedTime ?? '?'} on ${a.lastFailedWal ?? '?'} (${a.failedCount} failures)`, short: true };
  return { label: 'WAL archiver', value: a.lastArchivedWal ? `ok, last ${a.lastArchivedWal}` : 'ok, nothing archived yet', short: true };
}

export function statusJson(s: ClusterSnapshot, extra: Record<string, unknown> = {}) {
  return {
    takenAt: s.takenAt,
    durationMs: s.durationMs,
    primary: s.primary,
    writable: s.writable,
    writeEndpoint: writeEndpoint(s),
    nodes: s.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      up: n.up,
      host: n.host,
      port: n.port,
      timeline: n.timeline,
      lsn: n.lsn,
      replayLsn: n.replayLsn,
      lagBytes: n.lagBytes,
      lagSeconds: n.lagSeconds,
      streaming: n.streaming,
      upstream: n.upstream,
      replayPaused: n.replayPaused,
      fenced: n.fenced,
      failover: n.failover,
      syncState: n.syncState,
      error: n.error,
      cause: n.cause ?? null,
      archiver: n.archiver,
    })),
    ...extra,
  };
}

export function statusCard(s: ClusterSnapshot, extras: Array<{ label: string; value: string; data?: Record<string, unknown> }> = []): Reply {
  const endpoint = writeEndpoint(s);
  const proxy = extras.find((e) => e.label === 'Write endpoint');
  const reads = extras.find((e) => e.label === 'Read endpoint');
  const rows = s.nodes.map((n) => [
    n.name + (n.failover ? '' : ' (no failover)'),
    n.role,
    nodeState(n),
    n.timeline === null ? '–' : String(n.timeline),
    n.lsn ?? '–',
    lagText(n),
    n.upstream ?? '–',
  ]);
  const extraData = Object.assign({}, ...extras.map((e) => e.data ?? {}));
  const fenced = s.nodes.filter((n) => n.fenced).map((n) => n.name);
  const fencedFields: Field[] = fenced.length
    ? [{ label: 'Fenced', value: `${fenced.join(', ')}: a former primary, kept read-only — ${fenced.map((f) => `/cluster rejoin ${f}`).join(', ')} makes it a replica${s.primary ? ` of ${s.primary}` : ''}` }]
    : [];
  return {
    title: `Cluster status — ${headline(s)}`,
    severity: clusterSeverity(s),
    // A PgBouncer endpoint (module ha-status) replaces the primary's own address as THE write endpoint.
    text: [
      proxy
        ? `Write endpoint: ${proxy.value}${endpoint ? ` — the primary itself: ${endpoint}` : ''}`
        : endpoint
          ? `Write endpoint: ${endpoint} (${s.primary})`
          : 'No write endpoint: no single writable primary. See /cluster failover or /cluster nodes.',
      // The HAProxy read endpoint (module ha-status): which replicas take read sessions now.
      ...(reads ? [`Read endpoint: ${reads.value}`] : []),
    ].join('\n'),
    tables: [{ columns: ['node', 'role', 'state', 'tl', 'lsn', 'lag (bytes / time)', 'upstream'], rows }],
    fields: [...fencedFields, archiverField(s), ...extras.filter((e) => e !== proxy && e !== reads).map((e) => ({ label: e.label, value: e.value, short: true }))],
    context: `read ${s.nodes.length} nodes in ${s.durationMs} ms at ${s.takenAt.slice(11, 19)} UTC`,
    data: statusJson(s, extraData),
  };
}
