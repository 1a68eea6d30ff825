// /cluster sync on the Patroni backend: Patroni owns synchronous replication, so the mode maps to its
// dynamic configuration (PATCH /config): on → synchronous_mode, strict → synchronous_mode_strict too.
// The outcome is observed (a member with role sync_standby, or none), never assumed.
import { arg, defineCommand } from '../../src/core/command.js';
import { askConfirmation } from '../../src/core/confirm.js';
import { modeCost, SYNC_MODES } from '../../src/cluster/sync/state.js';
import { describeAnswer } from '../../src/patroni/client.js';
import { patroniClient } from '../../src/patroni/snapshot.js';

export default defineCommand({
  name: 'sync',
  summary: "Synchronous replication via Patroni's synchronous_mode: off, on or strict",
  help: "on: Patroni's synchronous_mode (one synchronous standby; Patroni fails over only to it and drops to async when none is healthy). strict: synchronous_mode_strict too (writes wait rather than going async). off: asynchronous. Give no-failover members the Patroni tag nosync: true so they are never chosen.",
  level: 'admin',
  mutates: true,
  args: { mode: arg.choice('off, on or strict', SYNC_MODES) },
  examples: ['/cluster sync on', '/cluster sync off'],
  async run(ctx, { mode }) {
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
  },
});
