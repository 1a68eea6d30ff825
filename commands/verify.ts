import { arg, defineCommand } from '../src/core/command.js';
import { progressSteps, verifyEachCard } from '../src/present/backup-cards.js';

export default defineCommand({
  name: 'verify',
  summary: 'Prove backups intact: pgbackrest verify checks every file and archived WAL segment against its checksum',
  help: 'Without an id, the newest backup of each repository (repo1, and repo2 on S3 when set), each checked in its own repository. The result is written into the backup\'s pgBackRest annotation and shown by /cluster backups.',
  level: 'operator',
  mutates: false,
  slow: true,
  args: { id: arg.string('backup id (default: the newest)', /^[A-Za-z0-9_.:+-]{1,64}$/, 'is not a backup id like 20261125-194700F') },
  examples: ['/cluster verify', '/cluster verify 20261125-194700F'],
  async run(ctx, { id }) {
    const service = ctx.services.backups;
    const results = await service.verifyEach(id, progressSteps(ctx.progress, `Verifying ${id ?? 'the newest backups'}…`));
    return verifyEachCard(results);
  },
});
