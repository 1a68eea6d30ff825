// clusterbot command line: `start` (cluster + chat), `run "/cluster …"` (one shot), `destroy`.
import { createInterface } from 'node:readline/promises';
import { afterClusterUp } from './cluster/ha-hooks.js';
import { stopWriteEndpoint } from './cluster/write-endpoint/index.js';
import { stopLocalReadEndpoint } from './cluster/read-endpoint/index.js';
import dotenv from 'dotenv';
import { createApp, type App } from './app.js';
import { loadConfig, type Config } from './config.js';
import { errorLine, isUserError, UserError } from './errors.js';
import type { Principal } from './core/context.js';
import { knownTerminalUser } from './core/permissions.js';
import { CONFIRM_PREFIX } from './core/pending.js';
import { clusterUp } from './cluster/provision.js';
import { renderText } from './chat/shell/render.js';
import { ShellAdapter } from './chat/shell/shell-adapter.js';
import type { Reply } from './chat/reply.js';
import { startChatAdapters } from './chat/adapters.js';
import { listenHttp, startMonitoring } from './monitor/index.js';
import { startBackupSchedules } from './backup/install.js';
import { startPatroniEndpoint } from './patroni/endpoint.js';
import { announceInterruptedOperation, interruptedOperationNote } from './cluster/failover/resume-offer.js';

const USAGE = `usage:
  clusterbot start                       bring the cluster up and open the chat (terminal when no Slack/Discord tokens)
  clusterbot run "/cluster status" [--json] [--confirm] [--as USER]
                                         run one command; --confirm presses its Confirm button as the same user
  clusterbot destroy [--yes]             stop every node and delete all cluster data (asks first)`;

interface RunFlags {
  json: boolean;
  confirm: boolean;
  as?: string;
  text: string;
}

function parseRunFlags(argv: string[]): RunFlags {
  const flags: RunFlags = { json: false, confirm: false, text: '' };
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') flags.json = true;
    else if (a === '--confirm') flags.confirm = true;
    else if (a === '--as') flags.as = argv[++i];
    else if (a.startsWith('--as=')) flags.as = a.slice(5);
    else if (a.startsWith('--')) throw new UserError(`unknown option ${a}`, USAGE.split('\n')[2].trim());
    else words.push(a);
  }
  if (flags.as === undefined && argv.includes('--as')) throw new UserError('--as needs a user name', 'e.g. --as alice');
  flags.text = words.join(' ');
  if (!flags.text) throw new UserError('run needs a command', 'e.g. clusterbot run "/cluster status"');
  return flags;
}

function terminalPrincipal(config: Config, as?: string, platform: 'shell' | 'cli' = 'cli'): Principal {
  const id = as ?? config.terminalUser;
  if (as !== undefined && !knownTerminalUser(config, as)) {
    throw new UserError(`--as ${as}: no such user in ADMINS, OPERATORS or VIEWERS`, 'add them to .env, or leave --as out to act as yourself');
  }
  return { id, display: id, platform };
}

async function cmdRun(config: Config, argv: string[]): Promise<number> {
  const flags = parseRunFlags(argv);
  const user = terminalPrincipal(config, flags.as);
  const app = await createApp(config);
  const interrupted = interruptedOperationNote(config.home);
  if (interrupted) process.stderr.write(`⚠ ${interrupted}\n`);
  try {
    const surface = {
      platform: 'cli' as const,
      channel: 'cli',
      progress: async (r: Reply) => {
        if (!flags.json) process.stderr.write(`↻ ${r.title}${r.text ? `: ${r.text.split('\n').at(-1)}` : ''}\n`);
      },
    };
    let reply = await app.router.handle(flags.text, user, surface);
    const confirm = reply.buttons?.find((b) => b.actionId.startsWith(CONFIRM_PREFIX));
    if (flags.confirm && confirm) {
      if (!flags.json) process.stdout.write(`${renderText(reply)}\n→ pressing "${confirm.label}" as ${user.display}\n\n`);
      reply = await app.router.press(confirm.actionId, user, surface);
    }
    if (flags.json) process.stdout.write(`${JSON.stringify(reply.failed ? { error: reply.text, title: reply.title } : (reply.data ?? { title: reply.title, text: reply.text }), null, 2)}\n`);
    else process.stdout.write(`${renderText(reply)}\n`);
    return reply.failed ? 1 : 0;
  } finally {
    await app.close();
  }
}

async function cmdStart(config: Config): Promise<number> {
  const app = await createApp(config);
  if (app.services.backend.name === 'patroni') return startPatroni(app, config);
  try {
    process.stdout.write(`clusterbot: bringing up ${config.nodes.length} nodes (${config.RUNTIME} runtime, data in ${config.home})…\n`);
    const outcomes = await clusterUp({ ...app.services, progress: (l) => process.stdout.write(`  ${l}\n`) });
    for (const o of outcomes) process.stdout.write(`  ${o.node}: ${o.error ? `FAILED — ${o.error}` : o.action} (${(o.ms / 1000).toFixed(1)} s)${o.replication ? `, ${o.replication}` : ''}\n`);
    if (outcomes.some((o) => o.action === 'failed')) process.stdout.write('Some nodes failed; the chat opens anyway so you can look (/cluster status, /cluster logs).\n');
    for (const line of await afterClusterUp(app.services)) process.stdout.write(`clusterbot: ${line}\n`);
    return await startChat(app, config, async () => {
      // First of all: a failover this bot's own crash cut short (operation journal) is posted, never silent.
      await announceInterruptedOperation(app).catch((err: unknown) => app.services.log.error({ err }, 'could not report the interrupted operation'));
      // One HTTP server per bot (app.http): /metrics, /healthz and Slack's HTTP mode share HTTP_PORT.
      await startMonitoring(app, { http: app.http });
      if (app.http.hasRoutes) process.stdout.write(`clusterbot: ${await listenHttp(app.http, config)}\n`);
      startBackupSchedules(app);
    });
  } finally {
    await app.close();
  }
}

/** Patroni runs the nodes: the bot monitors (with the Patroni rules), talks and takes the scheduled backups (no clusterUp). */
async function startPatroni(app: App, config: Config): Promise<number> {
  process.stdout.write(`clusterbot: Patroni backend (${config.PATRONI_URLS.join(', ')}); watching for leader changes.\n`);
  const endpoint = await startPatroniEndpoint(app.services);
  if (endpoint) process.stdout.write(`clusterbot: ${endpoint}\n`);
  try {
    return await startChat(app, config, async () => {
      await startMonitoring(app, { http: app.http });
      if (app.http.hasRoutes) process.stdout.write(`clusterbot: ${await listenHttp(app.http, config)}\n`);
      startBackupSchedules(app);
    });
  } finally {
    await app.close();
  }
}

/**
 * Chat first, then the background work (`background`: monitor, schedules, watchers), so the first
 * alert already has every adapter to go to. Returns when the person leaves or on SIGINT/SIGTERM.
 */
async function startChat(app: App, config: Config, background: () => Promise<void>): Promise<number> {
  const started = await startChatAdapters(app, config);
  const shell = started.terminal
    ? new ShellAdapter(app.router, { input: process.stdin, output: process.stdout, user: terminalPrincipal(config, undefined, 'shell') })
    : null;
  if (shell) app.notifier.add(shell);
  await background();
  if (app.http.hasRoutes && !app.http.listening) process.stdout.write(`clusterbot: HTTP on ${config.HTTP_HOST}:${await app.http.listen(config.HTTP_PORT, config.HTTP_HOST)}\n`);
  if (!shell) {
    process.stdout.write(`clusterbot: serving ${started.adapters.map((a) => a.name).join(' and ')}; Ctrl-C to stop.\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    return 0;
  }
  await shell.start();
  await shell.done();
  process.stdout.write('clusterbot: bye. The cluster keeps running; `clusterbot run "/cluster down" --confirm` stops it.\n');
  return 0;
}

async function cmdDestroy(config: Config, argv: string[]): Promise<number> {
  if (!argv.includes('--yes')) {
    if (!process.stdin.isTTY) throw new UserError('destroy deletes all cluster data and needs confirmation', 'run it in a terminal, or add --yes');
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(`This stops every node and DELETES all data under ${config.home}/nodes. Type "destroy" to confirm: `);
    rl.close();
    if (answer.trim() !== 'destroy') {
      process.stdout.write('Not confirmed; nothing was deleted.\n');
      return 1;
    }
  }
  const app = await createApp(config);
  try {
    await app.services.runtime.prepare();
    for (const n of config.nodes) await app.services.runtime.destroy(n);
    await stopWriteEndpoint(config).catch(() => false);
    await stopLocalReadEndpoint(config).catch(() => false);
    app.services.audit.record({ kind: 'command', user: config.terminalUser, platform: 'cli', command: 'destroy', outcome: 'ok' });
    process.stdout.write(`Deleted the data of ${config.nodes.map((n) => n.name).join(', ')}. Backups in ${config.backupDir} were kept.\n`);
    return 0;
  } finally {
    await app.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === 'help' || sub === '--help' || sub === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return sub ? 0 : 2;
  }
  dotenv.config({ path: process.env.CLUSTERBOT_ENV_FILE ?? '.env', quiet: true });
  try {
    const config = loadConfig(process.env);
    if (sub === 'run') return await cmdRun(config, rest);
    if (sub === 'start') return await cmdStart(config);
    if (sub === 'destroy') return await cmdDestroy(config, rest);
    throw new UserError(`unknown command "${sub}"`, USAGE.replace(/\n/g, ' ').replace(/\s+/g, ' '));
  } catch (e) {
    process.stderr.write(`clusterbot: ${errorLine(e)}\n`);
    return isUserError(e) ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
