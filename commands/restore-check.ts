import { arg, defineCommand } from '../src/core/command.js';
import { progressSteps, restoreCard } from '../src/present/backup-cards.js';

const TOKEN = /^[A-Za-z0-9_.:+ -]{1,64}$/;

export default defineCommand({
  name: 'restore-check',
  summary: 'pgbackrest restore of a backup (+WAL, optionally to a time) into a scratch instance, query it, delete it',
  help:
    'Restores into a throw-away PostgreSQL on a free 127.0.0.1 port (never the cluster), counts proyecto.usuarios, ' +
    'reads the latest logs_replicacion row, reports the restore time, then stops and deletes it. ' +
    'time: ISO 8601 such as 2026-11-25T19:30:00Z (UTC unless it has an offset). Without an id: the newest ' +
    'backup that finished before the time (from repo1). repo2 instead of an id: the newest suitable backup in repo2 (S3), ' +
    'restored with its WAL from the bucket alone. A backup is always restored from the repository it is in.',
  level: 'operator',
  mutates: false,
  slow: true,
  args: {
    id: arg.string('backup id, or repo1/repo2 (default: the newest suitable backup in repo1)', TOKEN, 'is not a backup id, a repository or a time'),
    time: arg.string('point in time to recover to (default: all archived WAL)', TOKEN, 'is not a time like 2026-11-25T19:30:00Z'),
  },
  examples: ['/cluster restore-check', '/cluster restore-check 20261125-194700F', '/cluster restore-check repo2', '/cluster restore-check 20261125-194700F 2026-11-25T19:58:00Z'],
  async run(ctx, args) {
    // A lone time may come first: "/cluster restore-check 2026-11-25T19:58:00Z".
    const [first, time] = args.time === undefined && args.id !== undefined && /^\d{4}-/.test(args.id) ? [undefined, args.id] : [args.id, args.time];
    // "repo2" names a repository instead of a backup.
    const repo = first && /^repo\d$/.test(first) ? Number(first.slice(4)) : undefined;
    const id = repo === undefined ? first : undefined;
    const service = ctx.services.backups;
    const { set, result } = await service.restoreCheck(id, time, progressSteps(ctx.progress, 'Restore check running…'), repo);
    return restoreCard(set, result);
  },
});
