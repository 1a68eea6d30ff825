// A backup catalog entry as the audit and the cards show it: a pure projection, no I/O.
import type { BackupEntry } from './catalog.js';

export function summary(e: BackupEntry) {
  return {
    id: e.id,
    kind: e.kind,
    node: e.node,
    timeline: e.timeline,
    startLsn: e.startLsn,
    stopLsn: e.stopLsn,
    firstWal: e.firstWal,
    lastWal: e.lastWal,
    sizeBytes: e.sizeBytes,
    durationMs: e.durationMs,
    throughputBps: e.throughputBps,
    startedAt: e.startedAt,
    finishedAt: e.finishedAt,
    verified: e.verified,
    verifiedAt: e.verifiedAt,
    verifyError: e.verifyError,
  };
}
