import { arg, defineCommand } from '../src/core/command.js';
import { UserError } from '../src/errors.js';
import { firingAlerts } from '../src/monitor/index.js';
import { endMaintenance, startMaintenance } from '../src/monitor/maintenance.js';

const MAX_SECONDS = 7 * 86400;

export default defineCommand({
  name: 'maintenance',
  summary: 'Mute alerts for a while (still recorded), or end maintenance',
  help: 'While on, alerts are recorded in the audit trail and the alert state but not posted; /cluster status shows it. When it ends (off, or the duration runs out), alerts still firing are posted.',
  level: 'operator',
  mutates: true,
  args: {
    mode: arg.choice('on or off', ['on', 'off']),
    duration: arg.duration('how long, e.g. 30m or 2h (at most 7d); needed with on'),
  },
  examples: ['/cluster maintenance on 2h', '/cluster maintenance off'],
  async run(ctx, { mode, duration }) {
    const { services, user } = ctx;
    if (mode === 'on') {
      if (duration === undefined) throw new UserError('maintenance on needs a duration', 'e.g. /cluster maintenance on 30m (at most 7d)');
      if (duration > MAX_SECONDS) throw new UserError('maintenance can last at most 7d', 'e.g. /cluster maintenance on 2h; renew it when it ends');
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
    const monitor = services.monitor.running;
    monitor?.kick('maintenance off');
    const firing = firingAlerts(services).alerts;
    return {
      title: was ? 'Maintenance off: alerts resume' : 'Maintenance was not on',
      severity: 'info',
      text: was
        ? `Alerts are posted again. ${firing.length} alert${firing.length === 1 ? ' is' : 's are'} firing now${firing.length ? ` (${firing.map((a) => a.key).join(', ')}); those muted are posted on the next monitor loop` : ''}.`
        : 'Nothing was muted; alerts were already being posted.',
      data: { maintenance: null, ended: was, firing: firing.map((a) => a.key) },
    };
  },
});
