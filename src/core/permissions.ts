// Levels from configuration: ADMINS / OPERATORS / VIEWERS list principal ids or group ids.
// The local terminal user gets TERMINAL_USER_LEVEL. Everyone else: no level, refused.
import type { Config } from '../config.js';
import type { Level } from './command.js';
import type { Principal } from './context.js';

export function levelOf(config: Config, who: Principal): Level | null {
  const ids = [who.id, ...(who.groups ?? [])];
  const has = (list: string[]) => ids.some((id) => list.includes(id));
  if (has(config.ADMINS)) return 'admin';
  if (has(config.OPERATORS)) return 'operator';
  if (has(config.VIEWERS)) return 'viewer';
  if ((who.platform === 'shell' || who.platform === 'cli') && who.id === config.terminalUser) return config.TERMINAL_USER_LEVEL;
  if (who.platform === 'system') return 'admin';
  return null;
}

/** `--as USER` may only name someone the configuration knows. */
export function knownTerminalUser(config: Config, id: string): boolean {
  return id === config.terminalUser || [...config.ADMINS, ...config.OPERATORS, ...config.VIEWERS].includes(id);
}
