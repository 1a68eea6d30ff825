import { defineCommand } from '../src/core/command.js';
import { catalogCard } from '../src/present/backup-cards.js';

export default defineCommand({
  name: 'backups',
  summary: 'The pgBackRest backups, newest first: kind, sizes, WAL range, repository, verification; old-engine ones marked',
  help: 'From pgbackrest info. "after switch" says whether a backup can restore to a time after the last failover or switchover (it was taken on the current timeline).',
  level: 'viewer',
  mutates: false,
  args: {},
  async run(ctx) {
    const service = ctx.services.backups;
    const [info, sw] = await Promise.all([service.info(), service.switchPoint()]);
    return catalogCard(info, service.legacy(), sw);
  },
});
