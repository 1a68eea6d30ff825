import { arg, defineCommand } from '../src/core/command.js';
import { progressSteps, verifyCard } from '../src/present/backup-cards.js';

export default defineCommand({
  name: 'verify',
  summary: 'Extract a backup and prove it intact (pg_verifybackup, checksums, WAL continuity)',
  help: 'Without an id, the newest backup. The result is recorded in the catalog (/cluster backups).',
  level: 'operator',
  mutates: false,
  slow: true,
  args: { id: arg.string('backup id (default: the newest)', /^[A-Za-z0-9_.:+-]{1,64}$/, 'is not a backup id like full-20261125T194700Z') },
  examples: ['/cluster verify', '/cluster verify full-20261125T194700Z'],
  async run(ctx, { id }) {
    const service = ctx.services.backups;
    const { entry, result } = await service.verify(id, progressSteps(ctx.progress, `Verifying ${id ?? 'the newest backup'}…`));
    return verifyCard(entry, result);
  },
});
