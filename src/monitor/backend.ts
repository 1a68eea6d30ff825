// What a cluster backend adds to the one monitor: its own rules (a watch started and stopped with the
// monitor loop, at the backend's own pace), which fire and resolve through the monitor's one alert
// manager (dedup, reminders, maintenance muting, the alert state on disk); the native rules those
// replace; where its synchronous replication state comes from; and the operation it runs now (alerts
// wait for it). The native backend adds nothing; Patroni's is src/patroni/monitoring.ts.
import type { Reply } from '../chat/reply.js';
import type { Services } from '../core/context.js';
import type { ClusterSnapshot } from '../cluster/inspect.js';
import type { SyncState } from '../cluster/sync/state.js';
import type { Finding, RuleId } from './rules.js';

export interface BackendWatch {
  stop(): Promise<void>;
  /** Checks finished so far (tests ask "has it looked again since X?"). */
  readonly ticks: number;
}

/** The monitor's alert lifecycle as a backend's rules use it. */
export interface BackendAlerts {
  /**
   * What the backend's rules find now. Alerts of its rules that are no longer found are resolved
   * (with `resolutions[key]` as the message when given) unless `resolveMissing` is false.
   */
  reconcile(findings: Finding[], opts?: { resolveMissing?: boolean; resolutions?: Record<string, Reply> }): Promise<void>;
  /** A one-time event (a leader change the bot did not start): recorded, posted unless maintenance mutes it. */
  event(finding: Finding): Promise<void>;
}

export interface BackendMonitoring {
  /** The backend's name, for logs and /healthz. */
  readonly name: string;
  /** Native rules this backend's own rules replace (they would post the same event twice). */
  readonly replaces: ReadonlySet<RuleId>;
  /** The rules this backend's watch fires: the native loop neither fires nor resolves them. */
  owns(rule: string): boolean;
  /** Start the backend's own rules. */
  start(services: Services, alerts: BackendAlerts): Promise<BackendWatch>;
  /** The synchronous replication state as this backend runs it (the sync rules and metrics read it). */
  syncState(services: Services, snapshot: ClusterSnapshot, now: number): Promise<SyncState>;
  /** A leader change or member operation of this backend in flight (its outages are not alerts), else null. */
  busy(services: Services): string | null;
}
