// The monitor loop: read the cluster every MONITOR_INTERVAL_SECONDS, and at once when the runtime
// reports a process exit; evaluate the rules, drive the alert lifecycle, keep lag samples and metrics.
import type { Notifier } from '../chat/notifier.js';
import type { Services } from '../core/context.js';
import type { RuntimeEvent } from '../runtime/runtime.js';
import { currentHolder } from '../cluster/failover/lock.js';
import { AlertManager } from './alerts.js';
import { diskUsage, watchedDirs } from './disk.js';
import { monitorFiles } from './files.js';
import { LagHistory, sampleOf } from './lag-history.js';
import { activeMaintenance } from './maintenance.js';
import { MonitorMetrics } from './metrics.js';
import { scheduleHealthReport } from './report.js';
import { durationConditions, evaluateRules } from './rules.js';
import { readSyncState } from '../cluster/sync/state.js';
import { startSyncGuard, type SyncGuard } from '../cluster/sync/guard.js';
import { syncFindings } from './sync-rules.js';
import { certificateFindings } from './tls-rules.js';
import { keepReadPool } from '../cluster/read-endpoint/index.js';
import { readPoolFindings } from './read-pool-rule.js';
import type { BackendAlerts, BackendMonitoring, BackendWatch } from './backend.js';

export interface MonitorHealth {
  status: 'ok' | 'starting' | 'stale';
  lastSuccessAt: string | null;
  lastSuccessAgeSeconds: number | null;
  staleAfterSeconds: number;
  intervalSeconds: number;
  ticks: number;
  lastError: string | null;
  alertsFiring: number;
  maintenance: boolean;
  /** The cluster backend whose snapshot the loop reads (native, patroni). */
  backend: string;
}

export class Monitor {
  readonly alerts: AlertManager;
  readonly history: LagHistory;
  readonly metrics: MonitorMetrics;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private unwatch: (() => void) | null = null;
  private stopReport: (() => Promise<void>) | null = null;
  private syncGuard: SyncGuard | null = null;
  private readonly since: Record<string, number> = {};
  private maintenanceWasOn = false;
  private lastSuccessAt: number | null = null;
  private lastError: string | null = null;
  private ticks = 0;
  /** The backend's own rules while the monitor runs (Patroni's watcher), else null. */
  backendWatch: BackendWatch | null = null;

  constructor(
    private readonly services: Services,
    private readonly notifier: Notifier,
    private readonly backend: BackendMonitoring | null = null,
  ) {
    const { config, audit, log } = services;
    const files = monitorFiles(config);
    this.intervalMs = config.MONITOR_INTERVAL_SECONDS * 1000;
    this.alerts = new AlertManager(files.alerts, notifier, audit, log, config.ALERT_REMINDER_MINUTES);
    this.history = new LagHistory(files.lagHistory, config.LAG_HISTORY_HOURS, config.MONITOR_INTERVAL_SECONDS, log);
    this.metrics = new MonitorMetrics(() => services.backups);
    this.maintenanceWasOn = activeMaintenance(config) !== null;
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.stopReport = scheduleHealthReport(this.services, this.notifier);
    if (this.backend) {
      // The backend runs the nodes and replication (Patroni): its own rules watch them, not our runtime or sync guard.
      this.backendWatch = await this.backend.start(this.services, this.backendAlerts(this.backend));
    } else {
      this.unwatch = this.services.runtime.watch((e) => this.onRuntimeEvent(e));
      this.syncGuard = startSyncGuard(this.services, (why) => this.kick(why));
    }
    this.kick('start');
  }

  /** The backend's rules fire and resolve through the same alert manager, under the same maintenance. */
  private backendAlerts(backend: BackendMonitoring): BackendAlerts {
    const { config } = this.services;
    return {
      reconcile: (findings, opts = {}) => {
        const now = Date.now();
        return this.alerts.reconcile(findings, now, activeMaintenance(config, now), { owns: (r) => backend.owns(r), ...opts });
      },
      event: (finding) => {
        const now = Date.now();
        return this.alerts.event(finding, now, activeMaintenance(config, now));
      },
    };
  }

  private onRuntimeEvent(e: RuntimeEvent): void {
    // An unexpected exit is the crash we must report within seconds: read the cluster now.
    this.services.log.debug({ event: e }, 'runtime event');
    this.kick(`${e.type} of ${e.node}${e.type === 'exit' && !e.expected ? ' (unexpected)' : ''}`);
  }

  /** Run a loop now (or right after the one in flight). */
  kick(reason: string): void {
    if (this.stopped) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.inFlight = this.tick(reason).finally(() => {
      this.inFlight = null;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.kick('queued event');
      } else {
        this.timer = setTimeout(() => this.kick('interval'), this.intervalMs);
      }
    });
  }

  /** Resolves after the next complete loop (tests, and commands that want fresh state). */
  async settle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private async tick(reason: string): Promise<void> {
    const started = performance.now();
    const { services } = this;
    const { config, log } = services;
    try {
      // An operation that ends while this tick reads the cluster must still hold its alerts: the
      // snapshot was taken mid-operation (a node being re-created is not "down").
      const operationAtStart = currentHolder(config.home)?.op ?? null;
      const snapshot = await services.snapshot();
      const now = Date.parse(snapshot.takenAt);
      const state = this.alerts.state;
      if (snapshot.primary) state.lastPrimary = snapshot.primary;
      const holding = new Set(durationConditions(snapshot));
      for (const k of Object.keys(this.since)) if (!holding.has(k)) delete this.since[k];
      for (const k of holding) this.since[k] ??= now;
      const maintenance = activeMaintenance(config, now);
      const [disks, backupOverdue] = await Promise.all([
        diskUsage(watchedDirs(config, services.runtime)),
        services.backups ? services.backups.overdue().catch(() => null) : Promise.resolve(null),
      ]);
      const replaced = this.backend?.replaces;
      const findings = evaluateRules({ snapshot, lastPrimary: state.lastPrimary, since: this.since, disks, backupOverdue, now, thresholds: config }).filter((f) => !replaced?.has(f.rule));
      const sync = this.backend ? await this.backend.syncState(services, snapshot, now) : readSyncState(config);
      findings.push(...syncFindings(sync, config.SYNC_DEGRADE_SECONDS, Date.now()));
      // The read endpoint follows roles, streaming and lag: rewritten and reloaded when its pool changes.
      const readPool = await keepReadPool(services, snapshot).catch((e: unknown) => (log.warn({ err: e }, 'read endpoint pool not kept'), null));
      findings.push(...readPoolFindings(readPool, config));
      findings.push(...certificateFindings(snapshot, config.TLS_EXPIRY_WARN_DAYS, now));
      if (this.maintenanceWasOn && !maintenance) log.info('maintenance is over: posting the alerts it muted');
      this.maintenanceWasOn = maintenance !== null;
      state.lastTickAt = new Date(now).toISOString();
      // A failover, switchover or rejoin stops and starts nodes on purpose: while one runs, alerts wait
      // for its outcome instead of crying "primary down" mid-operation. A split brain never waits.
      const operation = operationAtStart ?? currentHolder(config.home)?.op ?? this.backend?.busy(services) ?? null;
      if (operation && !findings.some((f) => f.rule === 'split_brain')) log.debug({ op: operation }, 'operation in progress: alerts wait for it');
      else await this.alerts.reconcile(findings, now, maintenance, { owns: (r) => !this.backend?.owns(r) });
      this.history.add(sampleOf(snapshot));
      this.metrics.updateCluster(snapshot);
      this.metrics.updateSync(sync, snapshot);
      this.metrics.updateDisks(disks);
      this.metrics.updateAlerts(this.alerts.firing(), maintenance !== null);
      this.lastSuccessAt = Date.now();
      this.lastError = null;
      this.ticks++;
      const ms = performance.now() - started;
      this.metrics.loopDone(this.lastSuccessAt, ms);
      log.debug({ reason, ms: Math.round(ms), findings: findings.length }, 'monitor loop');
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      log.error({ err, reason }, 'monitor loop failed');
    }
  }

  health(now = Date.now()): MonitorHealth {
    const { config } = this.services;
    const staleAfter = 3 * config.MONITOR_INTERVAL_SECONDS + (config.PG_CONNECT_TIMEOUT_MS + config.PG_QUERY_TIMEOUT_MS) / 1000;
    const age = this.lastSuccessAt === null ? null : (now - this.lastSuccessAt) / 1000;
    return {
      status: age === null ? 'starting' : age > staleAfter || this.stopped ? 'stale' : 'ok',
      lastSuccessAt: this.lastSuccessAt === null ? null : new Date(this.lastSuccessAt).toISOString(),
      lastSuccessAgeSeconds: age === null ? null : Math.round(age * 10) / 10,
      staleAfterSeconds: staleAfter,
      intervalSeconds: config.MONITOR_INTERVAL_SECONDS,
      ticks: this.ticks,
      lastError: this.lastError,
      alertsFiring: this.alerts.firing().length,
      maintenance: activeMaintenance(config) !== null,
      backend: this.backend?.name ?? 'native',
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unwatch?.();
    this.unwatch = null;
    await this.syncGuard?.stop();
    this.syncGuard = null;
    await this.backendWatch?.stop();
    this.backendWatch = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.stopReport?.();
    this.stopReport = null;
    await this.settle();
  }
}
