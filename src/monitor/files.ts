// Where the monitor keeps its state under CLUSTERBOT_HOME, and a crash-safe JSON writer.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config.js';
import { mkdirPrivate, replacePrivate } from '../core/private-files.js';

export function monitorFiles(config: Pick<Config, 'home'>) {
  const dir = `${config.home}/monitor`;
  return {
    dir,
    alerts: `${dir}/alerts.json`,
    maintenance: `${dir}/maintenance.json`,
    lagHistory: `${dir}/lag-history.jsonl`,
    charts: `${config.home}/charts`,
  };
}

/** Write to a temporary name and rename, so a reader (or a crash) never sees half a file. */
export function writeJsonAtomic(path: string, value: unknown): void {
  mkdirPrivate(dirname(path));
  replacePrivate(path, `${JSON.stringify(value, null, 1)}\n`);
}

/** The parsed file, or null when it is missing or unreadable (state is rebuilt from the cluster). */
export function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}
