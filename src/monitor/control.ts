// The monitor as a part of the app: built stopped by src/app.ts, started by `clusterbot start`
// (the loop, prom-client and node-cron load only then), with /metrics and /healthz on the HTTP port.
import type { Notifier } from '../chat/notifier.js';
import type { Services } from '../core/context.js';
import type { HttpServer } from '../http/server.js';
import type { BackendMonitoring } from './backend.js';
import type { Monitor } from './monitor.js';

export interface StartMonitoringOptions {
  /** Serve /metrics and /healthz on this server (the caller listens). */
  http?: HttpServer;
}

export class MonitorControl {
  /** The running monitor of this process, or null. */
  running: Monitor | null = null;
  private readonly routed = new WeakSet<HttpServer>();

  constructor(
    private readonly services: Services,
    private readonly notifier: Notifier,
    /** The backend's own rules (Patroni), run by the same monitor; null for the native backend. */
    private readonly backend: BackendMonitoring | null = null,
  ) {}

  /** Start the monitor loop, alerting and the health report (a running one is stopped first). */
  async start(opts: StartMonitoringOptions = {}): Promise<void> {
    const { services } = this;
    await this.stop();
    const { Monitor } = await import('./monitor.js');
    const monitor = new Monitor(services, this.notifier, this.backend);
    this.running = monitor;
    if (opts.http) this.registerRoutes(opts.http);
    await monitor.start();
    services.log.info({ intervalSeconds: services.config.MONITOR_INTERVAL_SECONDS, backend: this.backend?.name ?? 'native' }, 'monitor started');
  }

  async stop(): Promise<void> {
    const m = this.running;
    if (!m) return;
    this.running = null;
    await m.stop();
  }

  private registerRoutes(http: HttpServer): void {
    if (this.routed.has(http)) return;
    this.routed.add(http);
    // Handlers look the monitor up on each request, so a restarted monitor keeps serving.
    http.route('/metrics', async (_req, res) => {
      const m = this.running;
      if (!m) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('monitor not running\n');
        return;
      }
      const body = await m.metrics.text();
      res.writeHead(200, { 'content-type': m.metrics.contentType }).end(body);
    });
    http.route('/healthz', (_req, res) => {
      const m = this.running;
      const health = m ? m.health() : { status: 'stopped' };
      res.writeHead(health.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(health)}\n`);
    });
  }
}
