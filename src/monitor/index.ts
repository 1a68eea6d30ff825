// Wiring of the monitor: start/stop with the bot, /metrics and /healthz on the HTTP port, and the
// lines it adds to /cluster status (which also work in a one-shot `clusterbot run`). This module
// stays light: the loop, prom-client and node-cron load only when monitoring starts.
import type { App } from '../app.js';
import type { Config } from '../config.js';
import type { Services } from '../core/context.js';
import type { HttpServer } from '../http/server.js';
import { loadMonitorState, type AlertRecord } from './alerts.js';
import { monitorFiles } from './files.js';
import { activeMaintenance } from './maintenance.js';
import type { Monitor } from './monitor.js';

export { observeFailoverStep } from './failover-steps.js';

/** The running monitor of this process, if any. */
export function runningMonitor(services: Services): Monitor | null {
  return (services.modules.monitor as Monitor | undefined) ?? null;
}

export interface StartMonitoringOptions {
  /** Serve /metrics and /healthz on this server (the caller listens). */
  http?: HttpServer;
}

/** Start the monitor loop, alerting and the health report; returns the stop function. */
export async function startMonitoring(app: App, opts: StartMonitoringOptions = {}): Promise<() => Promise<void>> {
  const { services } = app;
  await stopMonitoring(services);
  const { Monitor } = await import('./monitor.js');
  const monitor = new Monitor(services, app.notifier);
  services.modules.monitor = monitor;
  if (opts.http) registerRoutes(opts.http, services);
  monitor.start();
  services.log.info({ intervalSeconds: services.config.MONITOR_INTERVAL_SECONDS }, 'monitor started');
  return () => stopMonitoring(services);
}

export async function stopMonitoring(services: Services): Promise<void> {
  const m = runningMonitor(services);
  if (!m) return;
  delete services.modules.monitor;
  await m.stop();
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

const routed = new WeakSet<HttpServer>();

function registerRoutes(http: HttpServer, services: Services): void {
  if (routed.has(http)) return;
  routed.add(http);
  // Handlers look the monitor up on each request, so a restarted monitor keeps serving.
  http.route('/metrics', async (_req, res) => {
    const m = runningMonitor(services);
    if (!m) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('monitor not running\n');
      return;
    }
    const body = await m.metrics.text();
    res.writeHead(200, { 'content-type': m.metrics.contentType }).end(body);
  });
  http.route('/healthz', (_req, res) => {
    const m = runningMonitor(services);
    const health = m ? m.health() : { status: 'stopped' };
    res.writeHead(health.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(health)}\n`);
  });
}

/** Firing alerts: from the running monitor, else from the state it left on disk. */
export function firingAlerts(services: Services): { alerts: AlertRecord[]; lastTickAt: string | null; live: boolean } {
  const m = runningMonitor(services);
  if (m) return { alerts: m.alerts.firing(), lastTickAt: m.alerts.state.lastTickAt, live: true };
  const state = loadMonitorState(monitorFiles(services.config).alerts);
  return { alerts: Object.values(state.alerts), lastTickAt: state.lastTickAt, live: false };
}

const ruleLabel = (a: AlertRecord) => `${a.finding.rule.replace(/_/g, ' ')}${a.finding.subject === 'cluster' ? '' : ` (${a.finding.subject})`}`;

/** Adds "Alerts" and, while it lasts, "Maintenance" to /cluster status. */
export function installMonitorView(services: Services): void {
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
