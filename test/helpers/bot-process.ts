// `clusterbot start` as a real child process (dist/ via bin/clusterbot.js), for tests that type
// into its terminal chat, or kill it with SIGKILL and start it again on the same CLUSTERBOT_HOME. Output is collected; `until`
// waits for a line with a deadline and says what it last saw.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';

const BIN = new URL('../../bin/clusterbot.js', import.meta.url).pathname;

export class BotProcess {
  out = '';
  private child: ChildProcessWithoutNullStreams | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);

  constructor(private readonly env: Record<string, string>) {
    if (!existsSync(new URL('../../dist/src/cli.js', import.meta.url))) throw new Error('dist/ is missing: run `npm run build`');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    this.out = '';
    const child = spawn(process.execPath, [BIN, 'start'], { env: { PATH: process.env.PATH ?? '', ...this.env, CLUSTERBOT_ENV_FILE: '/dev/null' }, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (this.out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
    this.child = child;
  }

  /** Wait until the output matches `re` (deadline), else fail with the tail of the output. */
  async until(re: RegExp, what: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.out)) {
      if (this.child?.exitCode !== null && this.child?.exitCode !== undefined) throw new Error(`the bot exited (${this.child.exitCode}) while waiting for ${what}; output:\n${this.out.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}; bot output so far:\n${this.out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A line typed into the bot's terminal chat. */
  send(line: string): void {
    this.child?.stdin.write(`${line}\n`);
  }

  /** The bot's own exit: its code (-1 when a signal ended it). */
  exit(): Promise<number | null> {
    return this.exited;
  }

  /** SIGKILL: no shutdown code runs (what a crash or the OOM killer does). */
  async kill9(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** A polite stop (SIGTERM), for cleanup. */
  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}
