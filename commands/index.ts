// Every /cluster subcommand, listed explicitly (help and the Discord registration follow this order).
// The one command tree for every backend: each command asks ctx.backend, which answers what it lacks.
import type { Command } from '../src/core/command.js';
import status from './status.js';
import nodes from './nodes.js';
import connect from './connect.js';
import start from './start.js';
import stop from './stop.js';
import restart from './restart.js';
import up from './up.js';
import down from './down.js';
import history from './history.js';
import help from './help.js';
import lag from './lag.js';
import maintenance from './maintenance.js';
import failover from './failover.js';
import switchover from './switchover.js';
import rejoin from './rejoin.js';
import follow from './follow.js';
import backup from './backup.js';
import backups from './backups.js';
import verify from './verify.js';
import restoreCheck from './restore-check.js';
import logs from './logs.js';
import sync from './sync.js';
import reset from './reset.js';
import tls from './tls.js';

export const commands: Command[] = [
  status, nodes, connect, start, stop, restart, up, down, reset, logs,
  failover, switchover, rejoin, follow, sync, tls,
  backup, backups, verify, restoreCheck,
  history, lag, maintenance, help,
] as Command[];

