// Wiring of the monitor: start/stop with the bot (MonitorControl, control.ts), and the lines it adds
// to /cluster status (which also work in a one-shot `clusterbot run`). This module stays light: the
// loop, prom-client and node-cron load only when monitoring starts.
import type { Config } from '../config.js';
import type { AppServices } from '../core/command.js';
import type { HttpServer } from '../http/server.js';
import { loadMonitorState, type AlertRecord } from './alerts.js';
import { monitorFiles } from './files.js';
import { activeMaintenance } from './maintenance.js';
import type { StartMonitoringOptions } from './control.js';

export { observeFailoverStep } from './failover-steps.js';

/** Start the monitor loop, alerting and the health report (app.services.monitor). */
export async function startMonitoring(app: { services: Pick<AppServices, 'monitor'> }, opts: StartMonitoringOptions = {}): Promise<() => Promise<void>> {
  const { monitor } = app.services;
  await monitor.start(opts);
  return () => monitor.stop();
}

export async function stopMonitoring(services: Pick<AppServices, 'monitor'>): Promise<void> {
  await services.monitor.stop();
}

/** Listen on HTTP_PORT; a busy port is reported, not fatal (the chat still works). Returns a status line. */
export async function listenHttp(http: HttpServer, config: Config): Promise<string> {
  try {
    const port = await http.listen(config.HTTP_PORT, config.HTTP_HOST);
    return `/metrics and /healthz on http://${config.HTTP_HOST}:${port}`;
  } catch (e) {
    return `HTTP port ${config.HTTP_HOST}:${config.HTTP_PORT} unavailable (${(e as Error).message}): no /metrics or /healthz — set HTTP_PORT to a free port`;
  }
}

/** Firing alerts: from the running monitor, else from the state it left on disk. */
export function firingAlerts(services: Pick<AppServices, 'config' | 'monitor'>): { alerts: AlertRecord[]; lastTickAt: string | null; live: boolean } {
  const m = services.monitor.running;
  if (m) return { alerts: m.alerts.firing(), lastTickAt: m.alerts.state.lastTickAt, live: true };
  const state = loadMonitorState(monitorFiles(services.config).alerts);
  return { alerts: Object.values(state.alerts), lastTickAt: state.lastTickAt, live: false };
}

const ruleLabel = (a: AlertRecord) => `${a.finding.rule.replace(/_/g, ' ')}${a.finding.subject === 'cluster' ? '' : ` (${a.finding.subject})`}`;

/** Adds "Alerts" and, while it lasts, "Maintenance" to /cluster status. */
export function installMonitorView(services: AppServices): void {
  services.statusContributors.push(async () => {
    const { alerts, lastTickAt, live } = firingAlerts(services);
    const { config } = services;
    const fresh = lastTickAt !== null && Date.now() - Date.parse(lastTickAt) < (3 * config.MONITOR_INTERVAL_SECONDS + 10) * 1000;
    const muted = alerts.filter((a) => a.messages.length === 0).length;
    let value = alerts.length === 0 ? 'none firing' : `${alerts.length} firing: ${alerts.map(ruleLabel).join(', ')}${muted ? ` (${muted} not posted: muted)` : ''}`;
    if (lastTickAt === null) value = live ? 'first monitor check still running' : 'no monitor check yet (the monitor runs inside clusterbot start)';
    else if (!live && !fresh) value += ` — as of ${lastTickAt.slice(11, 19)} UTC, monitor not running`;
    return { label: 'Alerts', value, data: { alerts: { firing: alerts.length, keys: alerts.map((a) => a.key), lastTickAt } } };
  });
  services.statusContributors.push(async () => {
    const m = activeMaintenance(services.config);
    if (!m) return null;
    return {
      label: 'Maintenance',
      value: `ON until ${m.until.slice(11, 16)} UTC (${m.until.slice(0, 10)}), by ${m.by}: alerts muted`,
      data: { maintenance: m },
    };
  });
}
