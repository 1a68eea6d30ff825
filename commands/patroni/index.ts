// The command list of the Patroni backend: same names as the native list where the meaning is
// the same (the backup and lag commands are the native ones: they work from connection info and
// the bot's own PostgreSQL tools); commands Patroni owns itself answer with what to do instead.
import type { Command } from '../../src/core/command.js';
import backup from '../backup.js';
import backups from '../backups.js';
import connect from '../connect.js';
import help from '../help.js';
import history from '../history.js';
import lag from '../lag.js';
import nodes from '../nodes.js';
import restoreCheck from '../restore-check.js';
import verify from '../verify.js';
import failover from './failover.js';
import maintenance from './maintenance.js';
import rejoin from './rejoin.js';
import restart from './restart.js';
import status from './status.js';
import switchover from './switchover.js';
import { unavailableCommands } from './unavailable.js';
import sync from './sync.js';

export const patroniCommands: Command[] = [
  status,
  nodes,
  connect,
  switchover,
  failover,
  restart,
  rejoin,
  backup,
  backups,
  verify,
  restoreCheck,
  sync,
  history,
  lag,
  maintenance,
  help,
  ...unavailableCommands,
] as Command[];
