// The native backend's operations as the command cards show them: preflight, confirmation card,
// then the procedures of src/cluster/ (failover, switchover, rejoin, follow, sync, lifecycle).
// This file only sequences them; the decisions and actions stay in src/cluster/.
import type { Reply } from '../chat/reply.js';
import type { CommandContext } from '../core/command.js';
import { askConfirmation } from '../core/confirm.js';
import { UserError } from '../errors.js';
import { preflightFailover } from '../cluster/failover/failover.js';
import { busyReason } from '../cluster/failover/lock.js';
import { refusal } from '../cluster/failover/operation.js';
import { runConfirmedFailover } from '../cluster/failover/confirmed.js';
import { preflightSwitchover, runSwitchover } from '../cluster/failover/switchover.js';
import { applySync } from '../cluster/sync/apply.js';
import { modeCost, readSyncState, standbyNames, syncMembers, type SyncMode } from '../cluster/sync/state.js';
import { syncStatusLine } from '../cluster/ha-status.js';
import { afterClusterUp } from '../cluster/ha-hooks.js';
import { clusterDown, clusterUp } from '../cluster/provision.js';
import { endpointActive, endpointAddress, stopEndpoint } from '../cluster/write-endpoint/index.js';
import { readEndpointActive, readEndpointAddress, stopReadEndpoint } from '../cluster/read-endpoint/index.js';
import { firingAlerts } from '../monitor/index.js';
import { endMaintenance, startMaintenance } from '../monitor/maintenance.js';
import { failoverConfirmFields, runWithProgress, switchoverConfirmFields } from '../present/failover-card.js';
import { lifecycleReply } from '../present/lifecycle-card.js';
import { withBackupAfterSwitch } from '../backup/after-failover.js';

/** No second failover, switchover or rejoin while one runs (the operation lock). */
function refuseWhileBusy(ctx: CommandContext): void {
  const busy = busyReason(ctx.services.config.home);
  if (busy) throw refusal(busy);
}

export async function failoverCard(ctx: CommandContext, target: string | undefined, force: boolean): Promise<Reply> {
  const s = ctx.services;
  refuseWhileBusy(ctx);
  const plan = await preflightFailover(s, target, force);
  if (typeof plan === 'string') throw refusal(plan);
  const { text, fields } = failoverConfirmFields(plan, s.node(plan.target), force);
  return askConfirmation(ctx, {
    command: 'failover',
    summary: `fail over to ${plan.target}`,
    confirmLabel: `Promote ${plan.target}`,
    level: 'admin',
    text,
    fields,
    data: { plan, force },
    run: async (c) => withBackupAfterSwitch(c, await runConfirmedFailover(c, plan.target, force)),
  });
}

export async function switchoverCard(ctx: CommandContext, target: string | undefined): Promise<Reply> {
  const s = ctx.services;
  refuseWhileBusy(ctx);
  const plan = await preflightSwitchover(s, target);
  if (typeof plan === 'string') throw refusal(plan);
  const { text, fields } = switchoverConfirmFields(plan);
  return askConfirmation(ctx, {
    command: 'switchover',
    summary: `switch over from ${plan.from} to ${plan.to}`,
    confirmLabel: `Switch over to ${plan.to}`,
    level: 'admin',
    text,
    fields,
    data: { plan },
    run: async (c) => withBackupAfterSwitch(c, await runWithProgress(c, 'Switchover', (hooks) => runSwitchover(s, { ...hooks, target: plan.to }))),
  });
}

export async function syncCard(ctx: CommandContext, mode: SyncMode): Promise<Reply> {
  const s = ctx.services;
  refuseWhileBusy(ctx);
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
}

export async function clusterUpCard(ctx: CommandContext): Promise<Reply> {
  const lines: string[] = [];
  const outcomes = await clusterUp({
    ...ctx.services,
    progress: (line) => {
      lines.push(line);
      void ctx.progress({ title: 'Bringing the cluster up…', severity: 'info', text: lines.join('\n') });
    },
  });
  const reply = lifecycleReply('Cluster up', outcomes);
  const extra = await afterClusterUp(ctx.services);
  // A cluster from before pgBackRest (or a repository moved away): archive-push needs the stanza.
  const stanza = outcomes.some((o) => o.action !== 'failed')
    ? await ctx.services.backups.ensureStanza().catch((e: Error) => `⚠ pgBackRest stanza not ready: ${e.message} — archiving fails until it is; see /cluster status`)
    : null;
  reply.text = [reply.text, ...extra, stanza].filter(Boolean).join('\n');
  return { ...reply, data: { ...(reply.data ?? {}), endpoint: extra, stanza } };
}

export async function clusterDownCard(ctx: CommandContext): Promise<Reply> {
  return askConfirmation(ctx, {
    command: 'down',
    summary: 'stop the whole cluster',
    confirmLabel: 'Stop all nodes',
    level: 'admin',
    text: 'Every node is stopped (primary first, so replicas receive all of its WAL). Nothing is deleted; /cluster up starts it again.',
    run: async (c) => {
      const reply = lifecycleReply('Cluster down', await clusterDown(c.services));
      // The endpoints go with the cluster (/cluster up starts them again).
      const how = (stop: Promise<boolean>) => stop.then((was) => (was ? 'stopped' : 'was not running'), (e: Error) => `could not be stopped: ${e.message}`);
      const lines = [reply.text];
      if (await endpointActive(c.services)) lines.push(`Write endpoint ${endpointAddress(c.services)} (PgBouncer) ${await how(stopEndpoint(c.services))}.`);
      if (await readEndpointActive(c.services)) lines.push(`Read endpoint ${readEndpointAddress(c.services)} (HAProxy) ${await how(stopReadEndpoint(c.services))}.`);
      return { ...reply, text: lines.filter(Boolean).join('\n') };
    },
  });
}

const MAX_MAINTENANCE_SECONDS = 7 * 86400;

/** Maintenance on the native backend: alerts muted (still evaluated and recorded) for a while. */
export async function alertMaintenance(ctx: CommandContext, on: boolean, duration: number | undefined): Promise<Reply> {
  const { services, user } = ctx;
  if (on) {
    if (duration === undefined) throw new UserError('maintenance on needs a duration', 'e.g. /cluster maintenance on 30m (at most 7d)');
    if (duration > MAX_MAINTENANCE_SECONDS) throw new UserError('maintenance can last at most 7d', 'e.g. /cluster maintenance on 2h; renew it when it ends');
    const m = startMaintenance(services.config, duration, user.display);
    services.monitor.running?.kick('maintenance on');
    return {
      title: `Maintenance on until ${m.until.slice(11, 16)} UTC`,
      severity: 'warn',
      text: 'Alerts are muted: they are still evaluated and recorded (audit trail, alert state, /cluster status) but not posted. It ends by itself at that time, or with /cluster maintenance off.',
      fields: [
        { label: 'Until', value: `${m.until.slice(0, 16).replace('T', ' ')} UTC`, short: true },
        { label: 'By', value: m.by, short: true },
      ],
      data: { maintenance: m },
    };
  }
  if (duration !== undefined) throw new UserError('maintenance off takes no duration', 'use /cluster maintenance off');
  const was = endMaintenance(services.config);
  services.monitor.running?.kick('maintenance off');
  const firing = firingAlerts(services).alerts;
  return {
    title: was ? 'Maintenance off: alerts resume' : 'Maintenance was not on',
    severity: 'info',
    text: was
      ? `Alerts are posted again. ${firing.length} alert${firing.length === 1 ? ' is' : 's are'} firing now${firing.length ? ` (${firing.map((a) => a.key).join(', ')}); those muted are posted on the next monitor loop` : ''}.`
      : 'Nothing was muted; alerts were already being posted.',
    data: { maintenance: null, ended: was, firing: firing.map((a) => a.key) },
  };
}
