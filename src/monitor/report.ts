// The periodic health report: the status card, compact, posted on a cron schedule.
import cron, { type ScheduledTask } from 'node-cron';
import type { Notifier } from '../chat/notifier.js';
import type { Reply } from '../chat/reply.js';
import type { Services } from '../core/context.js';
import { headline, statusCard } from '../present/status-card.js';

const KEEP = ['node', 'role', 'state', 'lag (bytes / time)'];

/** The status card with the columns an hourly glance needs: roles, state, lag; plus every contributor field. */
export async function healthReport(services: Services): Promise<Reply> {
  const snap = await services.snapshot();
  const extras = (await Promise.all(services.statusContributors.map((c) => c(snap).catch(() => null)))).filter((x) => x !== null);
  const card = statusCard(snap, extras);
  const tables = card.tables?.map((t) => {
    const idx = KEEP.map((c) => t.columns.indexOf(c)).filter((i) => i >= 0);
    return { ...t, columns: idx.map((i) => t.columns[i]), rows: t.rows.map((r) => idx.map((i) => r[i])) };
  });
  return { ...card, title: `Health report — ${headline(snap)}`, tables, data: { report: 'health', ...(card.data as object) } };
}

/** Schedule the report; returns a stop function. "off" schedules nothing. */
export function scheduleHealthReport(services: Services, notifier: Notifier): () => Promise<void> {
  const { HEALTH_REPORT_CRON: expr, HEALTH_REPORT_CHANNEL: channel } = services.config;
  if (expr === 'off') return async () => undefined;
  const task: ScheduledTask = cron.schedule(
    expr,
    async () => {
      try {
        await notifier.post(channel, await healthReport(services));
      } catch (err) {
        services.log.error({ err }, 'health report failed');
      }
    },
    { name: 'health-report', noOverlap: true },
  );
  return async () => {
    await task.destroy();
  };
}
