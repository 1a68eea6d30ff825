// Backup results as platform-neutral Replies: progress, report cards, the catalog, verify and restore checks.
import type { Field, Reply } from '../chat/reply.js';
import type { BackupEntry } from '../backup/catalog.js';
import type { RestoreCheckResult } from '../backup/restore-check.js';
import type { PrunePlan } from '../backup/retention.js';
import type { VerifyResult } from '../backup/verify.js';
import { summary } from '../backup/summary.js';
import { formatBytes, formatSeconds } from '../cluster/lsn.js';

const rate = (bps: number) => `${formatBytes(bps)}/s`;
const when = (iso: string) => `${iso.slice(0, 19).replace('T', ' ')} UTC`;
export const verifiedText = (e: Pick<BackupEntry, 'verified'>) => (e.verified === null ? 'not verified' : e.verified ? 'verified ✓' : 'VERIFY FAILED');

export function progressCard(title: string, text: string): Reply {
  return { title, severity: 'info', text };
}

/** A step callback that edits the command's message in place; a failed edit never fails the work. */
export function progressSteps(progress: (r: Reply) => Promise<void>, title: string): (step: string) => void {
  return (step) => {
    progress(progressCard(title, step)).catch(() => undefined);
  };
}

function entryFields(e: BackupEntry): Field[] {
  const fields: Field[] = [
    { label: 'Kind', value: e.kind, short: true },
    { label: e.kind === 'full' ? 'Taken from' : 'Source', value: e.node, short: true },
    { label: 'Size', value: formatBytes(e.sizeBytes), short: true },
    { label: 'Duration', value: formatSeconds(e.durationMs / 1000), short: true },
    { label: 'Throughput', value: rate(e.throughputBps), short: true },
    { label: 'Timeline', value: String(e.timeline), short: true },
  ];
  if (e.kind === 'full') fields.push({ label: 'LSN', value: `${e.startLsn} → ${e.stopLsn}`, short: true });
  fields.push({ label: 'WAL', value: e.firstWal === e.lastWal ? e.firstWal : `${e.firstWal} → ${e.lastWal}${e.wal ? ` (${e.wal.length} files)` : ''}`, short: true });
  return fields;
}

function verifyField(v: VerifyResult | null, e: BackupEntry): Field {
  if (!v) return { label: 'Verify', value: verifiedText(e), short: true };
  return { label: 'Verify', value: v.ok ? `passed in ${formatSeconds(v.ms / 1000)}` : `FAILED: ${v.problems[0]}`, short: !!v.ok };
}

/** A finished backup (command or schedule), with its verification and the next scheduled run. */
export function backupCard(e: BackupEntry, v: VerifyResult | null, nextRun: Date | null = null): Reply {
  const failed = v !== null && !v.ok;
  const fields = [...entryFields(e), verifyField(v, e)];
  if (nextRun) fields.push({ label: 'Next run', value: when(nextRun.toISOString()), short: true });
  return {
    title: failed ? `Backup ${e.id} taken, but VERIFICATION FAILED` : `Backup ${e.id} ${v?.ok ? 'taken and verified' : 'taken'}`,
    severity: failed ? 'crit' : v?.ok ? 'ok' : 'warn',
    text: failed ? v!.problems.join('\n') : undefined,
    fields,
    context: `${e.path}`,
    data: { backup: summary(e), verify: v, nextRun: nextRun?.toISOString() ?? null },
    failed: failed || undefined,
  };
}

export function nothingNewCard(nextRun: Date | null = null): Reply {
  return {
    title: 'Incremental backup: nothing new',
    severity: 'ok',
    text: 'No WAL was archived since the previous backup.',
    fields: nextRun ? [{ label: 'Next run', value: when(nextRun.toISOString()), short: true }] : undefined,
    data: { backup: null, nextRun: nextRun?.toISOString() ?? null },
  };
}

export function failureCard(kind: string, error: string, nextRun: Date | null = null): Reply {
  return {
    title: `${kind} backup FAILED`,
    severity: 'crit',
    text: error,
    fields: nextRun ? [{ label: 'Next run', value: when(nextRun.toISOString()), short: true }] : undefined,
    data: { kind, ok: false, error, nextRun: nextRun?.toISOString() ?? null },
    failed: true,
  };
}

export function catalogCard(entries: BackupEntry[], totals: { backupBytes: number; archiveBytes: number; archiveFiles: number }): Reply {
  const newestFirst = [...entries].reverse();
  const oldestFull = entries.find((e) => e.kind === 'full');
  const rows = newestFirst.map((e) => [
    e.id,
    e.kind,
    when(e.finishedAt),
    e.walDir ? `${e.node} (before reset)` : e.node,
    String(e.timeline),
    formatBytes(e.sizeBytes),
    formatSeconds(e.durationMs / 1000),
    verifiedText(e),
  ]);
  return {
    title: entries.length ? `${entries.length} backups, ${formatBytes(totals.backupBytes)}` : 'No backups yet',
    severity: entries.length ? 'info' : 'warn',
    text: oldestFull
      ? `Oldest point in time that can be restored: ${when(oldestFull.finishedAt)} (end of ${oldestFull.id}).`
      : 'Nothing can be restored yet: take a full backup with /cluster backup full.',
    tables: entries.length ? [{ columns: ['id', 'kind', 'finished', 'node', 'tl', 'size', 'took', 'verified'], rows }] : undefined,
    fields: [
      { label: 'Total size', value: formatBytes(totals.backupBytes), short: true },
      { label: 'WAL archive', value: `${totals.archiveFiles} files, ${formatBytes(totals.archiveBytes)}`, short: true },
    ],
    data: {
      backups: newestFirst.map(summary),
      totalBytes: totals.backupBytes,
      archive: { files: totals.archiveFiles, bytes: totals.archiveBytes },
      oldestRestorable: oldestFull?.finishedAt ?? null,
    },
  };
}

export function verifyCard(e: BackupEntry, v: VerifyResult): Reply {
  return {
    title: v.ok ? `${e.id} verified ✓` : `${e.id} FAILED verification`,
    severity: v.ok ? 'ok' : 'crit',
    text: v.ok ? undefined : v.problems.join('\n'),
    fields: [
      { label: 'Checked', value: v.checks.join('; ') },
      { label: 'Took', value: formatSeconds(v.ms / 1000), short: true },
    ],
    data: { backup: e.id, ok: v.ok, problems: v.problems, checks: v.checks, ms: v.ms },
    failed: v.ok ? undefined : true,
  };
}

export function restoreCard(e: BackupEntry, r: RestoreCheckResult): Reply {
  return {
    title: `Restore check of ${e.id} passed${r.target ? ` (to ${when(r.target)})` : ''}`,
    severity: 'ok',
    text: `Restored into a scratch instance on 127.0.0.1:${r.port}, started, queried, stopped and deleted. The cluster was not touched.`,
    fields: [
      { label: 'Restore time', value: formatSeconds(r.restoreMs / 1000), short: true },
      { label: 'proyecto.usuarios', value: `${r.usuarios} rows`, short: true },
      { label: 'Latest logs_replicacion', value: r.lastLog ? `#${r.lastLog.id} ${r.lastLog.evento} at ${when(r.lastLog.fecha)}` : '(empty)', short: false },
      { label: 'Timeline after recovery', value: String(r.timeline), short: true },
      { label: 'WAL replayed to', value: r.archiveEnd ? `${r.replayedTo} (archive ends at ${r.archiveEnd})` : r.replayedTo, short: true },
    ],
    data: r,
  };
}

export function pruneFields(plan: PrunePlan): Field[] {
  return [
    { label: 'Backups to delete', value: plan.remove.length ? plan.remove.map((e) => e.id).join(', ') : 'none' },
    { label: 'WAL files to delete', value: plan.wal.length ? `${plan.wal.length} (${plan.wal[0]} … ${plan.wal[plan.wal.length - 1]})` : 'none', short: true },
    { label: 'Space freed', value: formatBytes(plan.bytes), short: true },
    { label: 'Kept', value: plan.keep.map((e) => e.id).join(', ') || 'none' },
  ];
}

export function pruneData(plan: PrunePlan) {
  return { cutoff: plan.cutoff, remove: plan.remove.map((e) => e.id), wal: plan.wal, keep: plan.keep.map((e) => e.id), keepWalFrom: plan.keepWalFrom, bytes: plan.bytes };
}

export function prunedCard(plan: PrunePlan, nextRun: Date | null = null): Reply {
  const nothing = !plan.remove.length && !plan.wal.length;
  const fields = pruneFields(plan);
  if (nextRun) fields.push({ label: 'Next run', value: when(nextRun.toISOString()), short: true });
  return {
    title: nothing ? 'Retention: nothing to prune' : `Retention: pruned ${plan.remove.length} backups and ${plan.wal.length} WAL files`,
    severity: 'ok',
    text: `Window: backups finished after ${when(plan.cutoff)}, the newest full backup, and WAL from ${plan.keepWalFrom ?? '(no full backup)'} on are kept.`,
    fields,
    data: { ...pruneData(plan), nextRun: nextRun?.toISOString() ?? null },
  };
}
