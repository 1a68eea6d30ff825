import { arg, defineCommand } from '../../src/core/command.js';
import { UserError } from '../../src/errors.js';
import { describeAnswer } from '../../src/patroni/client.js';
import { patroniClient } from '../../src/patroni/snapshot.js';

export default defineCommand({
  name: 'maintenance',
  summary: 'Pause (on) or resume (off) Patroni: no automatic failover while paused',
  help: "Same as patronictl pause/resume (PATCH /config {pause}). Patroni's pause has no end time.",
  level: 'operator',
  mutates: true,
  args: { state: arg.choice('on or off', ['on', 'off'] as const), duration: arg.duration('not supported with Patroni') },
  examples: ['/cluster maintenance on', '/cluster maintenance off'],
  async run(ctx, { state, duration }) {
    if (duration !== undefined) {
      throw new UserError("Patroni's pause has no end time", 'run /cluster maintenance on, then /cluster maintenance off when the work is done');
    }
    const client = patroniClient(ctx.services);
    const paused = state === 'on';
    const answer = await client.setPaused(paused);
    if (answer.status >= 400) {
      return { title: `Patroni refused to ${paused ? 'pause' : 'resume'}`, severity: 'crit', text: describeAnswer(answer), failed: true };
    }
    // Observe it rather than trust the answer: /cluster shows `pause: true` once the DCS has it.
    const deadline = performance.now() + ctx.services.config.PATRONI_ACTION_TIMEOUT_SECONDS * 1000;
    while (performance.now() < deadline) {
      const { cluster } = await client.cluster();
      if ((cluster.pause === true) === paused) {
        return {
          title: paused ? 'Maintenance on: Patroni is paused' : 'Maintenance off: Patroni resumed',
          severity: paused ? 'warn' : 'ok',
          text: paused
            ? 'Patroni will not fail over or restart anything on its own until /cluster maintenance off. Switchover and failover to a named member still work.'
            : 'Patroni manages the cluster again: automatic failover is on.',
          data: { paused },
        };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    return { title: 'Maintenance: status unknown', severity: 'warn', text: 'Patroni accepted the change but /cluster does not show it yet; see /cluster status', failed: true };
  },
});
