import { arg, defineCommand } from '../src/core/command.js';
import { askConfirmation } from '../src/core/confirm.js';
import type { CommandContext } from '../src/core/command.js';
import type { BackupProgress } from '../src/backup/backup-run.js';
import type { SetKind } from '../src/backup/pgbackrest/info.js';
import { formatBytes } from '../src/cluster/lsn.js';
import { backupRunCard, progressSteps, pruneData, pruneFields, prunedCard } from '../src/present/backup-cards.js';

const KINDS: Record<string, SetKind> = { full: 'full', diff: 'diff', differential: 'diff', incr: 'incr', incremental: 'incr' };

export default defineCommand({
  name: 'backup',
  summary: 'Take a pgBackRest backup (full, diff or incr), verified; or expire old ones by retention',
  help:
    'full: every file; diff: files changed since the last full; incr: files changed since the last backup of any kind. ' +
    'pgBackRest copies from a healthy streaming replica (backup-standby, BACKUP_FROM) in parallel, compressed, a checksum per file, ' +
    'into each configured repository in turn (repo1, then repo2 on S3 when set); then pgbackrest verify proves each copy. prune: shows what BACKUP_RETENTION_FULL would expire and asks for confirmation.',
  level: 'operator',
  mutates: true,
  slow: true,
  args: { kind: arg.choice('what to do', ['full', 'diff', 'incr', 'differential', 'incremental', 'prune'] as const) },
  examples: ['/cluster backup full', '/cluster backup diff', '/cluster backup incr', '/cluster backup prune'],
  async run(ctx, { kind }) {
    const service = ctx.services.backups;
    if (kind === 'prune') return prune(ctx);
    const type = KINDS[kind];
    let shown = 0;
    const title = `${type === 'full' ? 'Full' : type === 'diff' ? 'Differential' : 'Incremental'} backup`;
    const onProgress = (p: BackupProgress) => {
      if (Date.now() - shown < 1000 && p.percent < 100) return;
      shown = Date.now();
      progressSteps(ctx.progress, `${title} running…`)(`from ${p.node}: ${p.percent}% (${formatBytes(p.doneBytes)} of ${formatBytes(p.totalBytes)})`);
    };
    progressSteps(ctx.progress, `${title} starting…`)('choosing the source; pgBackRest starts the backup on the primary');
    const { set, copies, expired } = await service.take(type, onProgress);
    progressSteps(ctx.progress, `Verifying ${set.id}…`)(`${formatBytes(set.repoBytes)} stored; now proving it is intact (pgbackrest verify)`);
    const verified = await service.verifyCopies(copies, progressSteps(ctx.progress, `Verifying ${set.id}…`));
    return backupRunCard(verified, null, expired);
  },
});

async function prune(ctx: CommandContext) {
  const service = ctx.services.backups;
  const plan = await service.planPrune();
  if (!plan.remove.length && !plan.legacy.length) return prunedCard(plan);
  return askConfirmation(ctx, {
    command: 'backup prune',
    summary: `expire ${plan.remove.length} backups${plan.legacy.length ? ` and delete ${plan.legacy.length} old-engine backups` : ''} (${formatBytes(plan.bytes)})`,
    confirmLabel: 'Delete them',
    level: 'operator',
    text: `Retention keeps the newest ${plan.retentionFull} full backups (BACKUP_RETENTION_FULL) with the backups and WAL they need (from ${plan.keepWalFrom ?? '(none)'} on).`,
    fields: pruneFields(plan),
    data: { prune: pruneData(plan) },
    run: async () => prunedCard(await service.prune(plan)),
  });
}
