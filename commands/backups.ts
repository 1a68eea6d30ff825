import { defineCommand } from '../src/core/command.js';
import { catalogCard } from '../src/present/backup-cards.js';

export default defineCommand({
  name: 'backups',
  summary: 'The backup catalog, newest first, with total size and the oldest restorable point',
  level: 'viewer',
  mutates: false,
  args: {},
  async run(ctx) {
    const service = ctx.services.backups;
    return catalogCard(service.catalog.list(), service.totals());
  },
});
