// What the native monitor does for backups and /cluster lag, with the Patroni backend: every
// MONITOR_INTERVAL_SECONDS one lag sample per replica into the history file /cluster lag reads,
// and the native rules that guard backups (WAL archiver failing, backup overdue) through the
// native alert lifecycle (firing, reminders, resolved; the state /cluster status reads).
// Leader, member and Patroni lag alerts stay with the watcher.
import type { Notifier } from '../chat/notifier.js';
import type { Services } from '../core/context.js';
import { AlertManager } from '../monitor/alerts.js';
import { monitorFiles } from '../monitor/files.js';
import { LagHistory, sampleOf } from '../monitor/lag-history.js';
import { durationConditions, evaluateRules, type RuleId } from '../monitor/rules.js';

const RULES: ReadonlySet<RuleId> = new Set<RuleId>(['archiver_failing', 'backup_overdue']);

export class PatroniUpkeep {
  private readonly history: LagHistory;
  private readonly alerts: AlertManager;
  private readonly since: Record<string, number> = {};
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly services: Services,
    notifier: Notifier,
  ) {
    const { config, log, audit } = services;
    const files = monitorFiles(config);
    this.history = new LagHistory(files.lagHistory, config.LAG_HISTORY_HOURS, config.MONITOR_INTERVAL_SECONDS, log);
    this.alerts = new AlertManager(files.alerts, notifier, audit, log, config.ALERT_REMINDER_MINUTES);
  }

  start(): void {
    this.services.patroni.lagHistory = this.history; // /cluster lag reads it live
    const loop = () => {
      if (this.stopped) return;
      this.running = this.once()
        .catch((err: unknown) => this.services.log.error({ err }, 'patroni upkeep failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.services.config.MONITOR_INTERVAL_SECONDS * 1000);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (this.services.patroni.lagHistory === this.history) this.services.patroni.lagHistory = null;
  }

  private async once(): Promise<void> {
    const { services } = this;
    const [snapshot, backupOverdue] = await Promise.all([
      services.snapshot(),
      services.backups ? services.backups.overdue().catch(() => null) : Promise.resolve(null),
    ]);
    const now = Date.parse(snapshot.takenAt);
    this.history.add(sampleOf(snapshot));
    const holding = new Set(durationConditions(snapshot));
    for (const k of Object.keys(this.since)) if (!holding.has(k)) delete this.since[k];
    for (const k of holding) this.since[k] ??= now;
    const findings = evaluateRules({ snapshot, lastPrimary: snapshot.primary, since: this.since, disks: [], backupOverdue, now, thresholds: services.config }).filter((f) =>
      RULES.has(f.rule),
    );
    this.alerts.state.lastTickAt = new Date(now).toISOString();
    // Patroni's pause (/cluster maintenance) stops failovers, not backups: these alerts are not muted.
    await this.alerts.reconcile(findings, now, null);
  }
}
