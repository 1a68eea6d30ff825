// Prometheus metrics (prom-client, a Registry of our own, never the global one). The monitor
// sets the cluster gauges after each loop; backup figures are read from the catalog on scrape.
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ClusterSnapshot } from '../cluster/inspect.js';
import { SYNC_MODES, type SyncState } from '../cluster/sync/state.js';
import type { BackupsView } from '../core/context.js';
import type { AlertRecord } from './alerts.js';
import type { DiskUsage } from './disk.js';
import { onFailoverStep } from './failover-steps.js';

// Failover step timings outlive any one monitor: the failover module calls observeFailoverStep().
const failoverRegistry = new Registry();
const failoverSteps = new Histogram({
  name: 'clusterbot_failover_step_duration_seconds',
  help: 'Duration of each failover/switchover step (preflight, fence, promote, verify-write, repoint…)',
  labelNames: ['step'],
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
  registers: [failoverRegistry],
});

onFailoverStep((step, seconds) => failoverSteps.observe({ step }, seconds));

const ROLES = ['primary', 'replica', 'down'] as const;

export class MonitorMetrics {
  private readonly own = new Registry();
  readonly registry: Registry;
  private readonly up: Gauge<'node'>;
  private readonly role: Gauge<'node' | 'role'>;
  private readonly lagBytes: Gauge<'node'>;
  private readonly lagSeconds: Gauge<'node'>;
  private readonly timeline: Gauge<'node'>;
  private readonly streaming: Gauge<'node'>;
  private readonly fenced: Gauge<'node'>;
  private readonly archiverFailed: Gauge<'node'>;
  private readonly archiverFailing: Gauge<'node'>;
  private readonly alerts: Gauge<'severity'>;
  private readonly maintenance: Gauge;
  private readonly writable: Gauge;
  private readonly lastSuccess: Gauge;
  private readonly loopSeconds: Gauge;
  private readonly syncMode: Gauge<'mode'>;
  private readonly syncReplica: Gauge<'node'>;
  private readonly syncDegraded: Gauge;
  private readonly diskUsed: Gauge<'folder'>;
  private readonly diskAvail: Gauge<'folder'>;

  constructor(backups: () => BackupsView | undefined) {
    const g = <L extends string>(name: string, help: string, labelNames: L[] = []) => new Gauge<L>({ name, help, labelNames, registers: [this.own] });
    this.up = g('clusterbot_node_up', 'The node answers queries (1) or not (0)', ['node']);
    this.role = g('clusterbot_node_role', 'The node\'s current role: 1 for its role label, 0 for the others', ['node', 'role']);
    this.lagBytes = g('clusterbot_replication_lag_bytes', 'Bytes of WAL the replica has not replayed yet (primary write LSN − replay LSN)', ['node']);
    this.lagSeconds = g('clusterbot_replication_lag_seconds', 'Replay delay of the replica in seconds', ['node']);
    this.timeline = g('clusterbot_node_timeline', 'The node\'s timeline id', ['node']);
    this.streaming = g('clusterbot_replica_streaming', 'The replica\'s WAL receiver is streaming (1) or not (0); replicas that answer only', ['node']);
    this.fenced = g('clusterbot_node_fenced', 'The node was fenced by a failover and waits for /cluster rejoin (1) or not (0)', ['node']);
    this.archiverFailed = g('clusterbot_wal_archiver_failed_count', 'pg_stat_archiver.failed_count on the node', ['node']);
    this.archiverFailing = g('clusterbot_wal_archiver_failing', 'The last WAL archive attempt failed (1) or not (0)', ['node']);
    this.alerts = g('clusterbot_alerts_firing', 'Alerts firing now, by severity', ['severity']);
    this.maintenance = g('clusterbot_maintenance_mode', 'Maintenance mode mutes alerts (1) or not (0)');
    this.writable = g('clusterbot_writable_nodes', 'How many nodes accept writes (1 is healthy; 2 or more is split brain)');
    this.lastSuccess = g('clusterbot_monitor_last_success_timestamp_seconds', 'When the monitor last read the cluster successfully (unix time)');
    this.loopSeconds = g('clusterbot_monitor_loop_duration_seconds', 'How long the last monitor loop took');
    this.syncMode = g('clusterbot_sync_mode', 'Synchronous replication mode: 1 for the mode in force (off, on, strict), 0 for the others', ['mode']);
    this.syncReplica = g('clusterbot_sync_replica', 'The replica is synchronous now: commits wait for it (1) or not (0)', ['node']);
    this.syncDegraded = g('clusterbot_sync_degraded', 'Mode on but degraded to asynchronous (1): commits are not protected');
    this.diskUsed = g('clusterbot_disk_used_ratio', 'Used share (0–1, as df counts it) of the filesystem holding the folder: node data, WAL archive, backups', ['folder']);
    this.diskAvail = g('clusterbot_disk_avail_bytes', 'Bytes still available to unprivileged users on the filesystem holding the folder', ['folder']);
    const last = async () => (await backups()?.last().catch(() => null)) ?? null;
    new Gauge({
      name: 'clusterbot_last_backup_timestamp_seconds',
      help: 'When the newest successful backup was taken (unix time)',
      registers: [this.own],
      async collect() {
        const b = await last();
        if (b) this.set(Date.parse(b.at) / 1000);
      },
    });
    new Gauge({
      name: 'clusterbot_last_backup_size_bytes',
      help: 'Size of the newest successful backup',
      registers: [this.own],
      async collect() {
        const b = await last();
        if (b) this.set(b.sizeBytes);
      },
    });
    new Gauge({
      name: 'clusterbot_last_backup_duration_seconds',
      help: 'How long the newest successful backup took',
      registers: [this.own],
      async collect() {
        const b = await last();
        if (b) this.set(b.durationMs / 1000);
      },
    });
    // prom-client's names already start with process_ and nodejs_: clusterbot_process_cpu_seconds_total, …
    collectDefaultMetrics({ register: this.own, prefix: 'clusterbot_' });
    this.registry = Registry.merge([this.own, failoverRegistry]);
  }

  updateCluster(s: ClusterSnapshot): void {
    for (const gauge of [this.lagBytes, this.lagSeconds, this.timeline, this.streaming]) gauge.reset();
    for (const n of s.nodes) {
      this.up.set({ node: n.name }, n.up ? 1 : 0);
      for (const r of ROLES) this.role.set({ node: n.name, role: r }, n.role === r ? 1 : 0);
      if (n.timeline !== null) this.timeline.set({ node: n.name }, n.timeline);
      this.fenced.set({ node: n.name }, n.fenced ? 1 : 0);
      if (n.role === 'replica') {
        this.streaming.set({ node: n.name }, n.streaming ? 1 : 0);
        if (n.lagBytes !== null) this.lagBytes.set({ node: n.name }, n.lagBytes);
        if (n.lagSeconds !== null) this.lagSeconds.set({ node: n.name }, n.lagSeconds);
      }
      if (n.archiver) {
        this.archiverFailed.set({ node: n.name }, n.archiver.failedCount);
        this.archiverFailing.set({ node: n.name }, n.archiver.failing && n.role === 'primary' ? 1 : 0);
      }
    }
    this.writable.set(s.writable.length);
  }

  updateSync(st: SyncState, s: ClusterSnapshot): void {
    for (const m of SYNC_MODES) this.syncMode.set({ mode: m }, st.mode === m ? 1 : 0);
    for (const n of s.nodes) this.syncReplica.set({ node: n.name }, n.role === 'replica' && (n.syncState === 'sync' || n.syncState === 'quorum') ? 1 : 0);
    this.syncDegraded.set(st.mode === 'on' && st.degraded ? 1 : 0);
  }

  /** One series per watched folder ("data of primary", "WAL archive", "backups"), each with its filesystem's figures. */
  updateDisks(disks: DiskUsage[]): void {
    for (const gauge of [this.diskUsed, this.diskAvail]) gauge.reset();
    for (const d of disks) {
      for (const folder of d.labels) {
        this.diskUsed.set({ folder }, d.usedPercent / 100);
        this.diskAvail.set({ folder }, d.availBytes);
      }
    }
  }

  updateAlerts(firing: AlertRecord[], maintenance: boolean): void {
    this.alerts.set({ severity: 'warn' }, firing.filter((a) => a.finding.severity === 'warn').length);
    this.alerts.set({ severity: 'crit' }, firing.filter((a) => a.finding.severity === 'crit').length);
    this.maintenance.set(maintenance ? 1 : 0);
  }

  loopDone(at: number, ms: number): void {
    this.lastSuccess.set(at / 1000);
    this.loopSeconds.set(ms / 1000);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
