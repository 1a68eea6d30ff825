// Every benchmark scenario, by the name `npm run bench -- <name>` takes, in SPEC section 10's order.
// promotion-streaming reads the failover cycles confirm-writable ran in the same process, or runs
// them itself when named alone.
import { backupEngine } from './backup-engine.js';
import { backupThroughput } from './backup-throughput.js';
import { confirmWritable } from './confirm-writable.js';
import { crashAlert } from './crash-alert.js';
import { failoverCatchup } from './failover-catchup.js';
import { idleFootprint } from './idle-footprint.js';
import type { Scenario } from './lib.js';
import { lossUnderLoad } from './loss-under-load.js';
import { promotionStreaming } from './promotion-streaming.js';
import { statusLatency } from './status-latency.js';
import { syncLoss } from './sync-loss.js';
import { syncCost } from './sync-cost.js';
import { endpointSwitchover } from './endpoint-switchover.js';
import { faultFailover } from './fault-failover.js';

export const scenarios: Record<string, Scenario> = {
  'crash-alert': crashAlert,
  'confirm-writable': confirmWritable,
  'promotion-streaming': promotionStreaming,
  'failover-catchup': failoverCatchup,
  'loss-under-load': lossUnderLoad,
  'status-latency': statusLatency,
  'backup-throughput': backupThroughput,
  'idle-footprint': idleFootprint,
  'sync-loss': syncLoss,
  'sync-cost': syncCost,
  'endpoint-switchover': endpointSwitchover,
  'fault-failover': faultFailover,
  'backup-engine': backupEngine,
};
