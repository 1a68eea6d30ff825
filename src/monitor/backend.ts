// What a cluster backend adds to the one monitor: its own rules (a watcher started and stopped with
// the monitor loop), the native rules those replace, and the operation it runs now (alerts wait for
// it). The native backend adds nothing; Patroni's is src/patroni/monitoring.ts, chosen by src/app.ts.
import type { Notifier } from '../chat/notifier.js';
import type { Services } from '../core/context.js';
import type { RuleId } from './rules.js';

export interface BackendWatch {
  stop(): Promise<void>;
  /** Checks finished so far (tests ask "has it looked again since X?"). */
  readonly ticks: number;
}

export interface BackendMonitoring {
  /** The backend's name, for logs and /healthz. */
  readonly name: string;
  /** Native rules this backend's own rules replace (they would post the same event twice). */
  readonly replaces: ReadonlySet<RuleId>;
  /** Start the backend's own rules; they post through the same notifier. */
  start(services: Services, notifier: Notifier): Promise<BackendWatch>;
  /** A leader change or member operation of this backend in flight (its outages are not alerts), else null. */
  busy(services: Services): string | null;
}
