// Every /cluster subcommand, listed explicitly (help and the Discord registration follow this order).
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
import logs from './logs.js';

export const commands: Command[] = [status, nodes, connect, start, stop, restart, up, down, logs, history, help] as Command[];
