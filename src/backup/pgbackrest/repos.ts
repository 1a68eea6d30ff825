// The repository options of the pgBackRest configuration (repo1: posix under the backups folder).
// One function, so every place that writes a configuration or passes options on a command line
// (node containers) gets the same repositories; further repositories (S3, encryption) join here.
import type { Config } from '../../config.js';

export interface RepoPaths {
  /** repo1-path as seen where pgBackRest runs (the bot's host, or /backups/pgbackrest in a node container). */
  repo1: string;
}

export function repoOptions(config: Config, paths: RepoPaths): Record<string, string> {
  return {
    'repo1-path': paths.repo1,
    'repo1-retention-full-type': 'count',
    'repo1-retention-full': String(config.BACKUP_RETENTION_FULL),
  };
}
