import { arg, defineCommand } from '../src/core/command.js';
import { SYNC_MODES } from '../src/cluster/sync/state.js';

export default defineCommand({
  name: 'sync',
  summary: 'Synchronous replication: off, on (degrades to async when no replica can confirm) or strict',
  help: 'on: every commit waits until one failover-eligible replica has flushed it (native: synchronous_standby_names = ANY 1 (…); Patroni: synchronous_mode), so a crash failover to it loses nothing; with no synchronous replica streaming it degrades to asynchronous (critical alert after SYNC_DEGRADE_SECONDS) and restores itself. strict: never degrades — writes wait. off: asynchronous. Needs an admin\'s confirmation; the card says what the mode costs. On Patroni, give no-failover members the tag nosync: true.',
  level: 'admin',
  mutates: true,
  args: { mode: arg.choice('off, on or strict', SYNC_MODES) },
  examples: ['/cluster sync on', '/cluster sync strict', '/cluster sync off'],
  run: (ctx, { mode }) => ctx.backend.sync(ctx, mode),
});
