import { arg, defineCommand } from '../src/core/command.js';
import { UserError } from '../src/errors.js';
import { lagChart } from '../src/monitor/lag-report.js';

export default defineCommand({
  name: 'lag',
  summary: 'Lag history per replica as a PNG chart (bytes behind and replay delay)',
  help: 'Charts the samples the monitor keeps (on either backend): one per MONITOR_INTERVAL_SECONDS, LAG_HISTORY_HOURS of them, kept across restarts.',
  level: 'viewer',
  mutates: false,
  args: { window: arg.duration('time window such as 10m, 1h or 6h (default 1h)') },
  examples: ['/cluster lag', '/cluster lag 10m'],
  async run(ctx, { window }) {
    const seconds = window ?? 3600;
    const max = ctx.services.config.LAG_HISTORY_HOURS * 3600;
    if (seconds < 60 || seconds > max) {
      throw new UserError(`window must be between 1m and ${ctx.services.config.LAG_HISTORY_HOURS}h (LAG_HISTORY_HOURS)`, 'e.g. /cluster lag 10m or /cluster lag 6h');
    }
    return lagChart(ctx.services, seconds);
  },
});
