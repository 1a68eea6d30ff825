// The /cluster reset cards: what will be destroyed (before), and what was done (after).
import type { Field, Reply } from '../chat/reply.js';
import { formatBytes } from '../cluster/lsn.js';
import type { NodeData, ResetResult } from '../cluster/reset.js';
import { lifecycleReply } from './lifecycle-card.js';

export interface NewestBackup {
  id: string;
  at: string;
  verified: boolean | null;
}

export interface BackupsOnDisk {
  count: number;
  bytes: number;
}

const when = (iso: string) => `${iso.slice(0, 19).replace('T', ' ')} UTC`;

function newestLine(b: NewestBackup | null): string {
  if (!b) return 'none — nothing of this data can be restored after the reset (take one first: /cluster backup full)';
  const v = b.verified === null ? 'NOT verified (/cluster verify first)' : b.verified ? 'verified ✓' : 'VERIFY FAILED';
  return `${b.id}, finished ${when(b.at)}, ${v}`;
}

export function resetConfirmFields(nodes: NodeData[], newest: NewestBackup | null, onDisk: BackupsOnDisk, purge: boolean): { text: string; fields: Field[] } {
  const total = nodes.reduce((s, n) => s + (n.bytes ?? 0), 0);
  const nodeLines = nodes.map((n) => `${n.name} (${n.address}, ${n.role}): ${n.bytes === null ? 'size not readable' : formatBytes(n.bytes)}`);
  const fields: Field[] = [
    { label: `Will be destroyed: every node's data (${formatBytes(total)})`, value: nodeLines.join('\n') },
    { label: 'Newest backup', value: newestLine(newest) },
  ];
  if (purge) {
    fields.push({ label: 'Backups: PURGED TOO (purge-backups)', value: `all ${onDisk.count} backups (${formatBytes(onDisk.bytes)}) and the WAL archive are deleted as well — nothing of this cluster can be restored afterwards` });
  }
  const kept = purge ? '' : ` Backups (${onDisk.count}) and the WAL archive are kept and stay restorable (/cluster backups, /cluster restore-check).`;
  return {
    text: `Every node is stopped and its data DELETED, then a fresh cluster is initialised as /cluster up does.${kept}`,
    fields,
  };
}

export interface KeptOrPurged {
  line: string;
}

export function resetReply(r: ResetResult<KeptOrPurged>, requestedBy: string, confirmedBy: string): Reply {
  const reply = lifecycleReply('Cluster reset', r.outcomes);
  const lines = [
    `Deleted the data of ${r.deleted.join(', ')}.`,
    r.backups.line,
    ...r.endpoint,
    reply.failed ? 'Some nodes did not come up: see /cluster logs <node>, fix it, then /cluster up creates what is missing (no second reset needed).' : reply.text,
    reply.failed ? '' : 'Take a first backup of the fresh cluster: /cluster backup full',
  ].filter(Boolean);
  return {
    ...reply,
    text: lines.join('\n'),
    context: `Requested by ${requestedBy}, confirmed by ${confirmedBy}; ${(r.ms / 1000).toFixed(1)} s in all.`,
    data: { ...(reply.data as object), deleted: r.deleted, backups: r.backups, endpoint: r.endpoint, requestedBy, confirmedBy, ms: r.ms },
  };
}
