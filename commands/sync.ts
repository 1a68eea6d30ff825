import { arg, defineCommand } from '../src/core/command.js';
import { askConfirmation } from '../src/core/confirm.js';
import { applySync } from '../src/cluster/sync/apply.js';
import { modeCost, readSyncState, standbyNames, SYNC_MODES, syncMembers } from '../src/cluster/sync/state.js';
import { syncStatusLine } from '../src/cluster/ha-status.js';
import { busyReason } from '../src/cluster/failover/lock.js';
import { refusal } from '../src/cluster/failover/operation.js';

export default defineCommand({
  name: 'sync',
  summary: 'Synchronous replication: off, on (degrades to async when no replica can confirm) or strict',
  help: 'on: every commit waits until one failover-eligible replica has flushed it (synchronous_standby_names = ANY 1 (…)), so a crash failover to it loses nothing; with no synchronous replica streaming for SYNC_DEGRADE_SECONDS it degrades to asynchronous (critical alert) and restores itself. strict: never degrades — writes wait. off: asynchronous. Needs an admin\'s confirmation; the card says what the mode costs.',
  level: 'admin',
  mutates: true,
  args: { mode: arg.choice('off, on or strict', SYNC_MODES) },
  examples: ['/cluster sync on', '/cluster sync strict', '/cluster sync off'],
  async run(ctx, { mode }) {
    const s = ctx.services;
    const busy = busyReason(s.config.home);
    if (busy) throw refusal(busy);
    const snap = await s.snapshot();
    if (!snap.primary) throw refusal('there is no single writable primary to apply it on — see /cluster status (after a failover, try again)');
    const members = syncMembers(s.config, snap.primary);
    if (mode !== 'off' && members.length === 0) throw refusal(`sync ${mode} needs a failover-eligible replica besides ${snap.primary}, and there is none — add one to CLUSTER_NODES (without :nofailover)`);
    const current = readSyncState(s.config);
    const streaming = snap.nodes.filter((n) => members.includes(n.name) && n.streaming && n.upstream === snap.primary).map((n) => n.name);
    return askConfirmation(ctx, {
      command: 'sync',
      summary: `set synchronous replication to ${mode}`,
      confirmLabel: `Set sync ${mode}`,
      level: 'admin',
      text: modeCost(mode, s.config.SYNC_DEGRADE_SECONDS),
      fields: [
        { label: 'Now', value: syncStatusLine(s, snap).value },
        { label: 'Primary', value: snap.primary, short: true },
        { label: 'synchronous_standby_names', value: mode === 'off' ? "'' (asynchronous)" : `'${standbyNames(members)}'`, short: true },
        { label: 'Streaming now', value: mode === 'off' ? '–' : streaming.join(', ') || `none — ${mode === 'strict' ? 'writes will WAIT until one streams' : 'it starts degraded (asynchronous) until one streams'}`, short: true },
      ],
      data: { mode, from: current.mode, members, streaming },
      run: async (c) => {
        const r = await applySync(s, s.node(snap.primary!), mode, c.user.display);
        s.audit.record({ kind: 'event', user: c.user.id, platform: c.user.platform, command: 'sync', outcome: 'done', detail: { mode, line: r.line } });
        s.monitor.running?.kick(`sync ${mode}`);
        return {
          title: `Synchronous replication: ${mode}`,
          severity: r.state.degraded || (mode === 'strict' && r.state.syncNodes.length === 0) ? 'warn' : 'ok',
          text: `${r.line}. Set by ${c.user.display}; kept across restarts (CLUSTERBOT_HOME/sync.json, over SYNC_MODE).`,
          data: { sync: r.state },
        };
      },
    });
  },
});
