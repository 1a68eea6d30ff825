// Patroni's own switches, driven through PATCH /config and observed in /cluster: pause (the bot's
// maintenance) and synchronous_mode (the bot's sync on|strict|off). Never reported done unseen.
import type { Reply } from '../chat/reply.js';
import type { CommandContext } from '../core/command.js';
import { askConfirmation } from '../core/confirm.js';
import { modeCost, type SyncMode } from '../cluster/sync/state.js';
import { UserError } from '../errors.js';
import { describeAnswer } from './client.js';
import { patroniClient } from './snapshot.js';

/** Pause (on) or resume (off) Patroni: no automatic failover while paused. Patroni's pause has no end time. */
export async function pauseMaintenance(ctx: CommandContext, on: boolean, duration: number | undefined): Promise<Reply> {
  if (duration !== undefined) {
    throw new UserError("Patroni's pause has no end time", 'run /cluster maintenance on, then /cluster maintenance off when the work is done');
  }
  const client = patroniClient(ctx.services);
  const answer = await client.setPaused(on);
  if (answer.status >= 400) {
    return { title: `Patroni refused to ${on ? 'pause' : 'resume'}`, severity: 'crit', text: describeAnswer(answer), failed: true };
  }
  // Observe it rather than trust the answer: /cluster shows `pause: true` once the DCS has it.
  const deadline = performance.now() + ctx.services.config.PATRONI_ACTION_TIMEOUT_SECONDS * 1000;
  while (performance.now() < deadline) {
    const { cluster } = await client.cluster();
    if ((cluster.pause === true) === on) {
      return {
        title: on ? 'Maintenance on: Patroni is paused' : 'Maintenance off: Patroni resumed',
        severity: on ? 'warn' : 'ok',
        text: on
          ? 'Patroni will not fail over or restart anything on its own until /cluster maintenance off. Switchover and failover to a named member still work.'
          : 'Patroni manages the cluster again: automatic failover is on.',
        data: { paused: on },
      };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { title: 'Maintenance: status unknown', severity: 'warn', text: 'Patroni accepted the change but /cluster does not show it yet; see /cluster status', failed: true };
}

/** /cluster sync on Patroni: on → synchronous_mode, strict → synchronous_mode_strict too; the outcome is a member with role sync_standby, or none. */
export async function syncModeCard(ctx: CommandContext, mode: SyncMode): Promise<Reply> {
  const s = ctx.services;
  const body = { synchronous_mode: mode !== 'off', synchronous_mode_strict: mode === 'strict' };
  return askConfirmation(ctx, {
    command: 'sync',
    summary: `set synchronous replication to ${mode} (Patroni)`,
    confirmLabel: `Set sync ${mode}`,
    level: 'admin',
    text: modeCost(mode, 0).replace(/ If no synchronous replica streams for 0 s,[^.]*\./, ' When no synchronous standby is healthy, Patroni drops to asynchronous (on) — strict makes writes wait instead.'),
    fields: [{ label: 'PATCH /config', value: JSON.stringify(body) }],
    data: { mode, patch: body },
    run: async () => {
      const client = patroniClient(s);
      const answer = await client.patchConfig(body);
      if (answer.status >= 400) return { title: 'Patroni refused the change', severity: 'crit', text: describeAnswer(answer), failed: true };
      const deadline = performance.now() + s.config.PATRONI_ACTION_TIMEOUT_SECONDS * 1000;
      let sync: string[] = [];
      while (performance.now() < deadline) {
        const { cluster } = await client.cluster();
        sync = cluster.members.filter((m) => m.role === 'sync_standby').map((m) => m.name);
        if ((mode === 'off') === (sync.length === 0)) {
          s.monitor.running?.kick(`sync ${mode}`);
          return {
            title: `Synchronous replication: ${mode} (Patroni)`,
            severity: 'ok',
            text: mode === 'off' ? 'Patroni no longer keeps a synchronous standby: commits do not wait for a replica.' : `${sync.join(', ')} is Patroni's synchronous standby: commits wait for it, and Patroni fails over only to it.`,
            data: { mode, syncStandby: sync },
          };
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      return {
        title: `Synchronous replication ${mode}: status unknown`,
        severity: 'warn',
        text: `Patroni accepted ${JSON.stringify(body)} but after ${s.config.PATRONI_ACTION_TIMEOUT_SECONDS} s ${sync.length ? `${sync.join(', ')} is still sync_standby` : 'no member is sync_standby'} — see /cluster status; it may still be in progress`,
        failed: true,
      };
    },
  });
}
