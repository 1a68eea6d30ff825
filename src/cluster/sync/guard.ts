// The sync guard: a short loop beside the monitor. Mode `on`: no synchronous replica streaming for
// SYNC_DEGRADE_SECONDS → degrade to async (writes never hang); one streams again → restore.
// Mode `strict`: never degrades, only tracks since when writes wait. Every change kicks the monitor,
// whose alert rules read the state file (syncFindings).
import type { NodeConfig } from '../../config.js';
import type { Services } from '../../core/context.js';
import { errorLine } from '../../errors.js';
import { currentHolder } from '../failover/lock.js';
import { applySync, readPrimarySync } from './apply.js';
import { readSyncState, writeSyncState, type SyncState } from './state.js';

const GUARD_INTERVAL_MS = 500;

export interface SyncGuard {
  stop(): Promise<void>;
  /** One check now (tests and the command use it). */
  check(): Promise<void>;
}

export function startSyncGuard(s: Services, onChange: (why: string) => void): SyncGuard {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  const check = async () => {
    if (running) return running;
    running = guardOnce(s, onChange)
      .catch((e: unknown) => s.log.warn({ err: errorLine(e) }, 'sync guard check failed'))
      .finally(() => {
        running = null;
      });
    return running;
  };
  const loop = () => {
    if (stopped) return;
    timer = setTimeout(() => void check().finally(loop), GUARD_INTERVAL_MS);
  };
  loop();
  return {
    check,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

/** The node that accepts writes: the one the state names if it still does, else whoever does. */
async function findPrimary(s: Services, st: SyncState): Promise<NodeConfig | null> {
  const named = st.primary ? s.config.nodes.find((n) => n.name === st.primary) : undefined;
  if (named) {
    const r = await readPrimarySync(s, named).catch(() => null);
    if (r && !r.inRecovery) return named;
  }
  const snap = await s.snapshot();
  return snap.primary ? s.node(snap.primary) : null;
}

async function guardOnce(s: Services, onChange: (why: string) => void): Promise<void> {
  const { config } = s;
  const st = readSyncState(config);
  if (st.mode === 'off' && !st.active) return;
  // A failover, switchover or rejoin owns the cluster while it runs; its hooks apply the mode.
  if (currentHolder(config.home)) return;
  const primary = await findPrimary(s, st);
  if (!primary) return;
  if (st.primary !== primary.name || (st.mode === 'off' && st.active)) {
    const r = await applySync(s, primary, st.mode);
    onChange(`sync applied on ${primary.name}: ${r.line}`);
    return;
  }
  const now = await readPrimarySync(s, primary);
  const streaming = st.members.filter((m) => now.streaming.includes(m));
  const synchronous = st.members.filter((m) => now.synchronous.includes(m));
  const t = Date.now();
  if (st.degraded) {
    if (streaming.length > 0) {
      const r = await applySync(s, primary, st.mode);
      s.log.warn({ line: r.line }, 'synchronous replication restored');
      onChange('sync restored');
    }
    return;
  }
  if (!st.active) {
    const r = await applySync(s, primary, st.mode);
    onChange(`sync applied: ${r.line}`);
    return;
  }
  if (synchronous.length > 0 || streaming.length > 0) {
    if (st.noSyncSince !== null || !sameList(st.syncNodes, synchronous)) {
      writeSyncState(config, { ...st, noSyncSince: null, syncNodes: synchronous });
      onChange('synchronous replica streaming');
    }
    return;
  }
  const since = st.noSyncSince ?? t;
  if (st.noSyncSince === null) {
    writeSyncState(config, { ...st, noSyncSince: since, syncNodes: [] });
    onChange('no synchronous replica streaming');
  }
  if (st.mode === 'on' && t - since >= config.SYNC_DEGRADE_SECONDS * 1000) {
    const r = await applySync(s, primary, 'on');
    s.log.error({ line: r.line }, 'synchronous replication degraded to asynchronous');
    onChange('sync degraded');
  } else if (st.mode === 'strict' && t - since >= config.SYNC_DEGRADE_SECONDS * 1000 && t - since < config.SYNC_DEGRADE_SECONDS * 1000 + 2 * GUARD_INTERVAL_MS) {
    // Crossing the threshold: the monitor's rule turns it into the alert now, not on its next interval.
    onChange('strict: writes waiting');
  }
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));
