import { defineCommand } from '../src/core/command.js';
import { backupModule } from '../src/backup/install.js';
import { catalogCard } from '../src/present/backup-cards.js';

export default defineCommand({
  name: 'backups',
  summary: 'The backup catalog, newest first, with total size and the oldest restorable point',
  level: 'viewer',
  mutates: false,
  args: {},
  async run(ctx) {
    const { service } = backupModule(ctx.services);
    return catalogCard(service.catalog.list(), service.totals());
  },
});
