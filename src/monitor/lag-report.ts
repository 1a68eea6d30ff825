// /cluster lag: the chart over a window, from the running monitor's samples or, in a one-shot
// `clusterbot run`, from the samples the bot persisted — plus one fresh sample taken now.
import type { Reply, Severity } from '../chat/reply.js';
import { formatBytes, formatSeconds } from '../cluster/lsn.js';
import type { Services } from '../core/context.js';
import { monitorFiles } from './files.js';
import { buildLagSvg, saveChart, svgToPng } from './lag-chart.js';
import { LagHistory, sampleOf } from './lag-history.js';
import { level } from './rules.js';
import type { MonitorControl } from './control.js';

function windowLabel(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

export async function lagChart(services: Services & { monitor: MonitorControl }, windowSeconds: number): Promise<Reply> {
  const { config } = services;
  const monitor = services.monitor.running;
  const source = monitor ? 'monitor' : 'saved';
  const history = monitor?.history ?? new LagHistory(monitorFiles(config).lagHistory, config.LAG_HISTORY_HOURS, config.MONITOR_INTERVAL_SECONDS, services.log);
  const snap = await services.snapshot();
  const fresh = sampleOf(snap);
  const to = fresh.t;
  const from = to - windowSeconds * 1000;
  const samples = [...history.since(from).filter((s) => s.t < to), fresh];
  const label = windowLabel(windowSeconds);
  const { svg, series } = buildLagSvg(
    {
      samples,
      from,
      to,
      title: `Replication lag per replica, last ${label}`,
      thresholds: { bytes: [config.LAG_BYTES_WARN, config.LAG_BYTES_CRIT], seconds: [config.LAG_SECONDS_WARN, config.LAG_SECONDS_CRIT] },
    },
    config.nodes.map((n) => n.name),
  );
  const { png, width, height } = await svgToPng(svg);
  const saved = saveChart(monitorFiles(config).charts, png, svg);
  const severities = series.map((s) =>
    [level(s.lastBytes ?? 0, config.LAG_BYTES_WARN, config.LAG_BYTES_CRIT), level(s.lastSeconds ?? 0, config.LAG_SECONDS_WARN, config.LAG_SECONDS_CRIT)],
  ).flat();
  const severity: Severity = severities.includes('crit') ? 'crit' : severities.includes('warn') ? 'warn' : 'info';
  const lines = series.map(
    (s) => `${s.node}: now ${formatBytes(s.lastBytes)} / ${formatSeconds(s.lastSeconds)}, peak ${formatBytes(s.maxBytes)} / ${formatSeconds(s.maxSeconds)} (${s.points} samples)`,
  );
  const sparse = samples.length < 3 ? `\nOnly ${samples.length} sample${samples.length === 1 ? '' : 's'} in this window: the monitor records one every ${config.MONITOR_INTERVAL_SECONDS} s while \`clusterbot start\` runs.` : '';
  const coverage = samples[0] && samples[0].t > from + 60_000 ? `\nHistory starts at ${new Date(samples[0].t).toISOString().slice(11, 19)} UTC.` : '';
  return {
    title: `Replication lag, last ${label}`,
    severity,
    text: (series.length ? lines.join('\n') : 'No replica answered in this window: nothing to chart.') + sparse + coverage,
    image: { path: saved.pngPath, filename: saved.filename, alt: `Lag per replica over the last ${label}` },
    context: `${samples.length} samples from ${new Date(from).toISOString().slice(11, 19)} to ${new Date(to).toISOString().slice(11, 19)} UTC · ${source === 'monitor' ? 'live monitor' : 'saved history + one sample now'}`,
    data: {
      windowSeconds,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      samples: samples.length,
      source,
      series,
      png: { path: saved.pngPath, width, height, bytes: png.length },
      svg: saved.svgPath,
    },
  };
}
