// The backup module as a part of the app (src/app.ts): the service, its scheduler, the status line.
import type { Notifier } from '../chat/notifier.js';
import type { Reply } from '../chat/reply.js';
import type { AppServices } from '../core/command.js';
import type { Services, StatusContributor } from '../core/context.js';
import { formatBytes } from '../cluster/lsn.js';
import { backupCard, backupRunCard, failureCard, prunedCard, verifiedText } from '../present/backup-cards.js';
import type { Runtime } from '../runtime/runtime.js';
import { BackupScheduler, type ScheduledRun, type Schedules } from './schedule.js';
import { BackupService } from './service.js';
import { dockerSite, hostSite, type PgBackRestSite } from './pgbackrest/site.js';
import type { PgTarget } from './pgbackrest/conf.js';
import { memberHere } from './pgbackrest/member-here.js';

export interface BackupModule {
  service: BackupService;
  scheduler: BackupScheduler;
  /** The "Last backup" line of /cluster status. */
  status: StatusContributor;
}

export function createBackups(services: Services, notifier: Notifier): BackupModule {
  const service = new BackupService(services, siteFor(services));
  const scheduler = new BackupScheduler(service, (run) => postRun(services, notifier, run), services.log);
  const status: StatusContributor = async () => {
    const [last, overdue, stanza] = await Promise.all([service.last(), service.overdue(), stanzaHealth(service)]);
    const value = last
      ? `${last.id}, ${formatBytes(last.sizeBytes)}, ${agoText(last.at)} ago, ${verifiedText(last)}`
      : 'none yet (/cluster backup full)';
    const line = `${value}; pgBackRest stanza ${services.config.BACKUP_STANZA}: ${stanza}`;
    return { label: 'Last backup', value: overdue ? `${line} — ⚠️ ${overdue}` : line, data: { lastBackup: last, backupOverdue: overdue, stanza } };
  };
  return { service, scheduler, status };
}

/** Where pgBackRest runs for this backend and runtime (src/backup/pgbackrest/site.ts). */
function siteFor(s: Services): PgBackRestSite {
  const { config, runtime } = s;
  if (config.CLUSTER_BACKEND === 'patroni') return hostSite(config, async () => undefined, (name) => memberTarget(s, name));
  if (config.RUNTIME === 'docker') return dockerSite(config, runtime);
  const local = runtime as Runtime & { pgTarget(n: ReturnType<Services['node']>): PgTarget };
  return hostSite(config, () => runtime.prepare(), async (name) => local.pgTarget(s.node(name)));
}

/** A Patroni member on this machine, as its own settings say (Patroni chose the paths). */
async function memberTarget(s: Services, name: string): Promise<PgTarget> {
  const r = await s.pools.query(
    s.node(name),
    "SELECT current_setting('data_directory') AS data, split_part(current_setting('unix_socket_directories'), ',', 1) AS socket, current_setting('port')::int AS port",
  );
  const row = r.rows[0] as { data: string; socket: string; port: number };
  return memberHere({ name, data: row.data, socket: row.socket.trim(), port: row.port });
}

/** "ok", or pgBackRest's own status message ("no valid backups", "missing stanza path"…). */
async function stanzaHealth(service: BackupService): Promise<string> {
  try {
    const info = await service.recentInfo();
    return info.status.code === 0 ? 'ok' : info.status.message;
  } catch (e) {
    return `cannot be read (${(e as Error).message.slice(0, 120)})`;
  }
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
  if (!run.entry) return failureCard(label, 'the run ended without a backup', run.nextRun);
  if (run.copies && run.copies.length > 1) return { ...backupRunCard(run.copies, run.nextRun, run.expired), context: `scheduled run, ${run.copies.length} repositories` };
  return { ...backupCard(run.entry, run.verify ?? null, run.nextRun, run.expired), context: `scheduled run, repo${run.entry.repo}` };
}

async function postRun(services: Services, notifier: Notifier, run: ScheduledRun): Promise<void> {
  services.audit.record({
    kind: 'auto',
    user: 'clusterbot',
    platform: 'system',
    command: `backup ${run.kind} (scheduled)`,
    outcome: run.ok ? (run.copies?.some((c) => !c.set) ? 'failed in a repository' : run.kind !== 'prune' && run.verify && !run.verify.ok ? 'verify failed' : 'ok') : 'failed',
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
