// Backup results as platform-neutral Replies: progress, report cards, the catalog, verify and restore checks.
import type { Field, Reply } from '../chat/reply.js';
import type { LegacyBackup } from '../backup/legacy.js';
import type { BackupSet, StanzaInfo, SwitchPoint } from '../backup/pgbackrest/info.js';
import type { RestoreCheckResult } from '../backup/restore-check.js';
import type { PrunePlan } from '../backup/retention.js';
import type { RepoCopy } from '../backup/backup-run.js';
import type { VerifyResult } from '../backup/verify-backup.js';
import { formatBytes, formatSeconds } from '../cluster/lsn.js';

const rate = (bps: number) => `${formatBytes(bps)}/s`;
const when = (iso: string) => `${iso.slice(0, 19).replace('T', ' ')} UTC`;
export const verifiedText = (e: { verified: boolean | null }) => (e.verified === null ? 'not verified' : e.verified ? 'verified ✓' : 'VERIFY FAILED');

export function progressCard(title: string, text: string): Reply {
  return { title, severity: 'info', text };
}

/** A step callback that edits the command's message in place; a failed edit never fails the work. */
export function progressSteps(progress: (r: Reply) => Promise<void>, title: string): (step: string) => void {
  return (step) => {
    progress(progressCard(title, step)).catch(() => undefined);
  };
}

const KIND: Record<BackupSet['kind'], string> = { full: 'full', diff: 'differential', incr: 'incremental' };

function entryFields(e: BackupSet): Field[] {
  const seconds = Math.max(e.durationMs / 1000, 1);
  return [
    { label: 'Kind', value: e.prior ? `${KIND[e.kind]} (on ${e.prior})` : KIND[e.kind], short: true },
    { label: 'Taken from', value: e.node ?? 'unknown', short: true },
    { label: 'Database size', value: formatBytes(e.sizeBytes), short: true },
    { label: 'Copied', value: `${formatBytes(e.deltaBytes)} → ${formatBytes(e.repoBytes)} stored (repo${e.repo})`, short: true },
    { label: 'Duration', value: formatSeconds(e.durationMs / 1000), short: true },
    { label: 'Throughput', value: rate(e.deltaBytes / seconds), short: true },
    { label: 'Timeline', value: String(e.timeline), short: true },
    { label: 'WAL', value: e.walStart === e.walStop ? e.walStart : `${e.walStart} → ${e.walStop}`, short: true },
  ];
}

function verifyField(v: VerifyResult | null, e: BackupSet): Field {
  if (!v) return { label: 'Verify', value: verifiedText(e), short: true };
  return { label: 'Verify', value: v.ok ? `passed in ${formatSeconds(v.ms / 1000)}` : `FAILED: ${v.problems[0]}`, short: !!v.ok };
}

/** A finished backup (command or schedule), with its verification and the next scheduled run. */
export function backupCard(e: BackupSet, v: VerifyResult | null, nextRun: Date | null = null, expired: string[] = []): Reply {
  const failed = v !== null && !v.ok;
  const fields = [...entryFields(e), verifyField(v, e)];
  if (expired.length) fields.push({ label: 'Expired by retention', value: expired.join(', ') });
  if (nextRun) fields.push({ label: 'Next run', value: when(nextRun.toISOString()), short: true });
  return {
    title: failed ? `Backup ${e.id} taken, but VERIFICATION FAILED` : `Backup ${e.id} ${v?.ok ? 'taken and verified' : 'taken'}`,
    severity: failed ? 'crit' : v?.ok ? 'ok' : 'warn',
    text: failed ? v!.problems.join('\n') : undefined,
    fields,
    context: `pgBackRest, stanza repository repo${e.repo}`,
    data: { backup: e, verify: v, expired, nextRun: nextRun?.toISOString() ?? null },
    failed: failed || undefined,
  };
}

/** What one repository got: "20261203-101500F: 12 MB stored in 4 s, verified ✓", or its failure. */
function copyValue(c: RepoCopy): string {
  if (!c.set) return `FAILED: ${c.error}`;
  const v = c.verify ? (c.verify.ok ? `verified in ${formatSeconds(c.verify.ms / 1000)} ✓` : `VERIFY FAILED: ${c.verify.problems[0]}`) : verifiedText(c.set);
  return `${c.set.id}: ${formatBytes(c.set.repoBytes)} stored in ${formatSeconds(c.set.durationMs / 1000)}, ${v}`;
}

/**
 * A backup run into every configured repository: the first repository's card, plus one field per
 * repository; a repository the backup did not reach fails the card, saying which copies were kept.
 */
export function backupRunCard(copies: RepoCopy[], nextRun: Date | null = null, expired: string[] = []): Reply {
  const first = copies.find((c) => c.set)!;
  const base = backupCard(first.set!, first.verify ?? null, nextRun, expired);
  if (copies.length === 1) return base;
  const missed = copies.filter((c) => !c.set);
  const badVerify = copies.filter((c) => c.verify && !c.verify.ok);
  const kept = copies.filter((c) => c.set).map((c) => `${c.set!.id} in repo${c.repo.index}${c.verify?.ok ? ' (verified)' : ''}`);
  const failed = missed.length > 0 || badVerify.length > 0;
  const repoFields: Field[] = copies.map((c) => ({ label: c.repo.label, value: copyValue(c) }));
  return {
    ...base,
    title: missed.length
      ? `Backup FAILED in ${missed.map((c) => `repo${c.repo.index}`).join(', ')}; kept ${kept.join(', ')}`
      : badVerify.length
        ? `Backup taken, but VERIFICATION FAILED in ${badVerify.map((c) => `repo${c.repo.index}`).join(', ')}`
        : `Backup ${copies.map((c) => c.set!.id).join(' / ')} taken into ${copies.length} repositories and verified`,
    severity: failed ? 'crit' : base.severity,
    text: failed ? [...missed.map((c) => c.error), ...badVerify.flatMap((c) => c.verify!.problems)].join('\n') : base.text,
    fields: [...repoFields, ...(base.fields ?? []).filter((f) => f.label !== 'Verify')],
    context: `pgBackRest, ${copies.length} repositories`,
    data: {
      ...(base.data as object),
      copies: copies.map((c) => ({ repo: c.repo.index, label: c.repo.label, id: c.set?.id ?? null, repoBytes: c.set?.repoBytes ?? null, durationMs: c.set?.durationMs ?? null, verified: c.verify?.ok ?? null, error: c.error })),
    },
    failed: failed || undefined,
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

/** A backup can restore to a time after the switch when it was taken on the new timeline. */
export const restoresPastSwitch = (e: BackupSet, sw: SwitchPoint | null) => !sw || e.timeline >= sw.timeline;

export function catalogCard(info: StanzaInfo, legacy: LegacyBackup[], sw: SwitchPoint | null = null): Reply {
  const sets = info.sets;
  const newestFirst = [...sets].reverse();
  const oldest = sets[0];
  const rows = newestFirst.map((e) => [
    e.id,
    KIND[e.kind],
    when(e.finishedAt),
    e.earlierDatabase ? `${e.node ?? '?'} (before reset)` : (e.node ?? '?'),
    String(e.timeline),
    formatBytes(e.sizeBytes),
    formatBytes(e.repoBytes),
    `${e.walStart.slice(8)}…${e.walStop.slice(8)}`,
    `repo${e.repo}`,
    verifiedText(e),
    sw ? (restoresPastSwitch(e, sw) ? 'yes' : 'no') : '—',
  ]);
  const oldRows = [...legacy].reverse().map((b) => [b.id, `${b.kind} (old engine)`, when(b.finishedAt), b.node, String(b.timeline), formatBytes(b.sizeBytes), formatBytes(b.sizeBytes), '—', 'old engine', verifiedText(b), '—']);
  const repoBytes = sets.reduce((s, e) => s + e.repoBytes, 0);
  const count = sets.length + legacy.length;
  const text = [
    oldest
      ? `Oldest point in time that can be restored: ${when(oldest.finishedAt)} (end of ${oldest.id}). WAL archived: ${info.archiveMin ?? '—'} → ${info.archiveMax ?? '—'}.`
      : 'Nothing can be restored with pgBackRest yet: take a full backup with /cluster backup full.',
    sw && sets.length && !sets.some((e) => restoresPastSwitch(e, sw))
      ? `⚠️ No backup restores to a time after the switch to timeline ${sw.timeline}${sw.at ? ` (${when(sw.at)})` : ''}: take a full backup now (/cluster backup full).`
      : '',
    ...info.repos.filter((r) => r.code === 99).map((r) => `⚠️ repo${r.key} cannot be read, so its backups are not listed: ${r.message}`),
    legacy.length ? `${legacy.length} backups of the old engine (pg_basebackup) are kept read only until retention removes them (/cluster backup prune).` : '',
  ].filter(Boolean).join('\n');
  return {
    title: count ? `${count} backups, ${formatBytes(repoBytes)} in the pgBackRest repository` : 'No backups yet',
    severity: count ? 'info' : 'warn',
    text,
    tables: count ? [{ columns: ['id', 'kind', 'finished', 'node', 'tl', 'db size', 'stored', 'WAL', 'repo', 'verified', 'after switch'], rows: [...rows, ...oldRows] }] : undefined,
    fields: [
      { label: 'Stored', value: formatBytes(repoBytes), short: true },
      { label: 'Stanza', value: info.status.code === 0 ? 'ok' : info.status.message, short: true },
      ...(info.repos.length > 1 ? info.repos.map((r) => ({ label: `repo${r.key}`, value: `${sets.filter((e) => e.repo === r.key).length} backups, ${r.code === 0 ? 'ok' : r.message}`, short: true })) : []),
    ],
    data: {
      backups: newestFirst.map((e) => ({ ...e, restoresPastSwitch: restoresPastSwitch(e, sw) })),
      oldEngine: legacy,
      totalBytes: repoBytes,
      archive: { min: info.archiveMin, max: info.archiveMax },
      stanza: info.status,
      repos: info.repos,
      switch: sw,
      oldestRestorable: oldest?.finishedAt ?? null,
    },
  };
}

export function verifyCard(e: BackupSet, v: VerifyResult): Reply {
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

/** /cluster verify over several repositories: the newest backup of each, each in its own repository. */
export function verifyEachCard(results: Array<{ set: BackupSet; result: VerifyResult }>): Reply {
  if (results.length === 1) return verifyCard(results[0].set, results[0].result);
  const bad = results.filter((r) => !r.result.ok);
  return {
    title: bad.length ? `FAILED verification in ${bad.map((r) => `repo${r.set.repo}`).join(', ')}` : `${results.length} repositories verified ✓`,
    severity: bad.length ? 'crit' : 'ok',
    text: bad.length ? bad.flatMap((r) => r.result.problems.map((p) => `repo${r.set.repo}: ${p}`)).join('\n') : undefined,
    fields: results.map((r) => ({ label: `repo${r.set.repo}: ${r.set.id}`, value: `${r.result.ok ? 'verified ✓' : 'FAILED'} — ${r.result.checks.join('; ')} (${formatSeconds(r.result.ms / 1000)})` })),
    data: { repos: results.map((r) => ({ repo: r.set.repo, backup: r.set.id, ok: r.result.ok, problems: r.result.problems, checks: r.result.checks, ms: r.result.ms })), ok: !bad.length },
    failed: bad.length ? true : undefined,
  };
}

export function restoreCard(e: BackupSet, r: RestoreCheckResult): Reply {
  return {
    title: `Restore check of ${e.id} passed${r.target ? ` (to ${when(r.target)})` : ''}`,
    severity: 'ok',
    text: `Restored from repo${r.repo} (backup and WAL) into a scratch instance on 127.0.0.1:${r.port}, started, queried, stopped and deleted. The cluster was not touched.`,
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
    { label: 'Backups to expire', value: plan.remove.length ? plan.remove.map((e) => e.id).join(', ') : 'none' },
    { label: 'Old-engine backups to delete', value: plan.legacy.length ? plan.legacy.map((e) => e.id).join(', ') : 'none' },
    { label: 'Space freed', value: formatBytes(plan.bytes), short: true },
    { label: 'Kept', value: plan.keep.map((e) => e.id).join(', ') || 'none' },
  ];
}

export function pruneData(plan: PrunePlan) {
  return { retentionFull: plan.retentionFull, remove: plan.remove.map((e) => e.id), legacy: plan.legacy.map((e) => e.id), keep: plan.keep.map((e) => e.id), keepWalFrom: plan.keepWalFrom, bytes: plan.bytes };
}

export function prunedCard(plan: PrunePlan, nextRun: Date | null = null): Reply {
  const nothing = !plan.remove.length && !plan.legacy.length;
  const fields = pruneFields(plan);
  if (nextRun) fields.push({ label: 'Next run', value: when(nextRun.toISOString()), short: true });
  return {
    title: nothing ? 'Retention: nothing to prune' : `Retention: expired ${plan.remove.length} backups${plan.legacy.length ? ` and deleted ${plan.legacy.length} old-engine backups` : ''}`,
    severity: 'ok',
    text: `pgBackRest keeps the newest ${plan.retentionFull} full backups (BACKUP_RETENTION_FULL), the backups that depend on them, and WAL from ${plan.keepWalFrom ?? '(no backup)'} on; it also applies this after every backup.`,
    fields,
    data: { ...pruneData(plan), nextRun: nextRun?.toISOString() ?? null },
  };
}
