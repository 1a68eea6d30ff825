// Maintenance mode: alerts are muted (still recorded) until a deadline. Kept in a file, so a
// one-shot `clusterbot run "/cluster maintenance on 2h"` reaches the long-running bot.
import type { Config } from '../config.js';
import { monitorFiles, readJson, writeJsonAtomic } from './files.js';

export interface Maintenance {
  until: string;
  by: string;
  at: string;
}

export function readMaintenance(config: Pick<Config, 'home'>): Maintenance | null {
  const m = readJson<Maintenance>(monitorFiles(config).maintenance);
  return m && typeof m.until === 'string' ? m : null;
}

/** The maintenance window in force now, or null (none, or it has expired). */
export function activeMaintenance(config: Pick<Config, 'home'>, now = Date.now()): Maintenance | null {
  const m = readMaintenance(config);
  return m && Date.parse(m.until) > now ? m : null;
}

export function startMaintenance(config: Pick<Config, 'home'>, seconds: number, by: string, now = Date.now()): Maintenance {
  const m: Maintenance = { until: new Date(now + seconds * 1000).toISOString(), by, at: new Date(now).toISOString() };
  writeJsonAtomic(monitorFiles(config).maintenance, m);
  return m;
}

/** End maintenance now; returns the window that was in force, if any. */
export function endMaintenance(config: Pick<Config, 'home'>, now = Date.now()): Maintenance | null {
  const was = activeMaintenance(config, now);
  writeJsonAtomic(monitorFiles(config).maintenance, { until: new Date(now).toISOString(), by: was?.by ?? '', at: new Date(now).toISOString(), ended: true });
  return was;
}
