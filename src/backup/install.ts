// The backup module as a part of the app (src/app.ts): the service, its scheduler, the status line.
import type { Notifier } from '../chat/notifier.js';
import type { Reply } from '../chat/reply.js';
import type { AppServices } from '../core/command.js';
import type { Services, StatusContributor } from '../core/context.js';
import { formatBytes } from '../cluster/lsn.js';
import { backupCard, failureCard, nothingNewCard, prunedCard, verifiedText } from '../present/backup-cards.js';
import { BackupScheduler, type ScheduledRun, type Schedules } from './schedule.js';
import { BackupService } from './service.js';

export interface BackupModule {
  service: BackupService;
  scheduler: BackupScheduler;
  /** The "Last backup" line of /cluster status. */
  status: StatusContributor;
}

export function createBackups(services: Services, notifier: Notifier): BackupModule {
  const service = new BackupService(services);
  const scheduler = new BackupScheduler(service, (run) => postRun(services, notifier, run), services.log);
  const status: StatusContributor = async () => {
    const [last, overdue] = await Promise.all([service.last(), service.overdue()]);
    const value = last
      ? `${last.id}, ${formatBytes(last.sizeBytes)}, ${agoText(last.at)} ago, ${verifiedText(last)}`
      : 'none yet (/cluster backup full)';
    return { label: 'Last backup', value: overdue ? `${value} — ⚠️ ${overdue}` : value, data: { lastBackup: last, backupOverdue: overdue } };
  };
  return { service, scheduler, status };
}

/** Start the cron schedules (clusterbot start); app.close() stops them. */
export function startBackupSchedules(app: { services: Pick<AppServices, 'config' | 'backupScheduler'> }, overrides: Partial<Schedules> = {}): BackupScheduler | null {
  const { config, backupScheduler: scheduler } = app.services;
  if (!config.BACKUP_SCHEDULES && !Object.keys(overrides).length) return null;
  scheduler.start({ full: config.BACKUP_FULL_CRON, incremental: config.BACKUP_INCREMENTAL_CRON, prune: config.BACKUP_PRUNE_CRON, ...overrides });
  return scheduler;
}

export function runCard(run: ScheduledRun): Reply {
  const label = run.kind === 'prune' ? 'Retention' : run.kind === 'full' ? 'Full' : 'Incremental';
  if (!run.ok) return { ...failureCard(label, run.error, run.nextRun), context: 'scheduled run' };
  if (run.prune) return { ...prunedCard(run.prune, run.nextRun), context: 'scheduled run' };
  if (!run.entry) return { ...nothingNewCard(run.nextRun), context: 'scheduled run' };
  return { ...backupCard(run.entry, run.verify ?? null, run.nextRun), context: `scheduled run, ${run.entry.path}` };
}

async function postRun(services: Services, notifier: Notifier, run: ScheduledRun): Promise<void> {
  services.audit.record({
    kind: 'auto',
    user: 'clusterbot',
    platform: 'system',
    command: `backup ${run.kind} (scheduled)`,
    outcome: run.ok ? (run.kind !== 'prune' && run.verify && !run.verify.ok ? 'verify failed' : 'ok') : 'failed',
    detail: run.ok ? (run.entry ? run.entry.id : undefined) : run.error,
    ms: run.ms,
  });
  await notifier.post('backups', runCard(run));
}

function agoText(iso: string): string {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}
