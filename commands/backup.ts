import { arg, defineCommand } from '../src/core/command.js';
import { askConfirmation } from '../src/core/confirm.js';
import type { CommandContext } from '../src/core/command.js';
import type { FullProgress } from '../src/backup/full.js';
import { formatBytes } from '../src/cluster/lsn.js';
import { backupCard, nothingNewCard, progressSteps, pruneData, pruneFields, prunedCard } from '../src/present/backup-cards.js';

export default defineCommand({
  name: 'backup',
  summary: 'Take a full backup or bundle the archived WAL (incremental), verified; or prune old backups',
  help:
    'full: pg_basebackup (tar, gzip, WAL streamed, manifest) from a healthy replica (BACKUP_FROM), then verified. ' +
    'incremental: the WAL archived since the previous backup, bundled, checked for gaps, verified. ' +
    'prune: shows what BACKUP_RETENTION_DAYS would delete and asks for confirmation.',
  level: 'operator',
  mutates: true,
  slow: true,
  args: { kind: arg.choice('what to do', ['full', 'incremental', 'prune'] as const) },
  examples: ['/cluster backup full', '/cluster backup incremental', '/cluster backup prune'],
  async run(ctx, { kind }) {
    const service = ctx.services.backups;
    if (kind === 'prune') return prune(ctx);
    let shown = 0;
    const onProgress = (p: FullProgress) => {
      if (Date.now() - shown < 1000 && p.percent < 100) return;
      shown = Date.now();
      progressSteps(ctx.progress, 'Full backup running…')(`from ${p.node}: ${p.percent}% (${formatBytes(p.doneKb * 1024)} of ${formatBytes(p.totalKb * 1024)})`);
    };
    progressSteps(ctx.progress, `${kind === 'full' ? 'Full' : 'Incremental'} backup starting…`)('choosing the source and closing the current WAL segment');
    const entry = kind === 'full' ? await service.full(onProgress) : await service.incremental();
    if (!entry) return nothingNewCard();
    progressSteps(ctx.progress, `Verifying ${entry.id}…`)(`${formatBytes(entry.sizeBytes)} written; now proving it is intact`);
    const { entry: marked, result } = await service.verify(entry.id, progressSteps(ctx.progress, `Verifying ${entry.id}…`));
    return backupCard(marked, result);
  },
});

function prune(ctx: CommandContext) {
  const service = ctx.services.backups;
  const plan = service.planPrune();
  const days = ctx.services.config.BACKUP_RETENTION_DAYS;
  if (!plan.remove.length && !plan.wal.length) return Promise.resolve(prunedCard(plan));
  return Promise.resolve(
    askConfirmation(ctx, {
      command: 'backup prune',
      summary: `delete ${plan.remove.length} backups and ${plan.wal.length} WAL files (${formatBytes(plan.bytes)})`,
      confirmLabel: 'Delete them',
      level: 'operator',
      text: `Retention is ${days} days. The newest full backup and every WAL segment from ${plan.keepWalFrom ?? '(none)'} on are kept.`,
      fields: pruneFields(plan),
      data: { prune: pruneData(plan) },
      run: async () => prunedCard(await service.prune(plan)),
    }),
  );
}
