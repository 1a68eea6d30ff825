import { arg, defineCommand } from '../src/core/command.js';

export default defineCommand({
  name: 'maintenance',
  summary: 'Mute alerts for a while, or end maintenance (Patroni: pause or resume Patroni)',
  help: 'Native: while on, alerts are recorded in the audit trail and the alert state but not posted; /cluster status shows it. When it ends (off, or the duration runs out), alerts still firing are posted. Patroni: pause/resume as patronictl does (no automatic failover while paused; Patroni\'s pause has no end time, so no duration).',
  level: 'operator',
  mutates: true,
  args: {
    mode: arg.choice('on or off', ['on', 'off']),
    duration: arg.duration('how long, e.g. 30m or 2h (at most 7d); needed with on (native)'),
  },
  examples: ['/cluster maintenance on 2h', '/cluster maintenance off'],
  run: (ctx, { mode, duration }) => ctx.backend.maintenance(ctx, mode === 'on', duration),
});
