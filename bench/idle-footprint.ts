// Scenario 7: the bot's idle footprint. A real `clusterbot start` child process (the compiled CLI,
// no chat tokens, so the terminal chat reads a stdin pipe nobody writes to) runs its monitor
// against a test cluster; /proc/<pid>/status VmRSS and /proc/<pid>/stat utime+stime are sampled
// once a second over 60 s. Reference, sampled in the same seconds: a bare
// `node -e "setInterval(()=>{},1000)"`, the floor of any Node process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { judge, round, stats, type Figure, type Scenario } from './lib.js';
import { benchCluster, runtime, sleep } from './support.js';

const ROOT = new URL('../', import.meta.url).pathname;
const TICKS = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

function cpuTicks(pid: number): number {
  // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

async function healthy(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`clusterbot start exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`clusterbot start: /healthz not ok within ${timeoutMs} ms`);
}

export const idleFootprint: Scenario = async ({ quick, log }) => {
  const seconds = quick ? 3 : 60;
  log('idle footprint: building the CLI (npm run build)');
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed: ${(build.stdout + build.stderr).trim().split('\n').slice(-3).join(' | ')}`);
  const c = await benchCluster(3, { env: { HEALTH_REPORT_CRON: 'off', BACKUP_SCHEDULES: 'false' } });
  const children: ChildProcess[] = [];
  try {
    const bot = spawn(process.execPath, [`${ROOT}bin/clusterbot.js`, 'start'], {
      env: { PATH: process.env.PATH, ...c.env, CLUSTERBOT_ENV_FILE: '/dev/null', LOG_LEVEL: 'info' },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    children.push(bot);
    const ref = spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)'], { stdio: ['pipe', 'ignore', 'ignore'] });
    children.push(ref);
    await healthy(Number(c.env.HTTP_PORT), bot, 60_000);
    await sleep(quick ? 500 : 5000); // past start-up work (first monitor loops, JIT)
    log(`  sampling pid ${bot.pid} (bot) and ${ref.pid} (bare node) for ${seconds} s`);
    const rss = { bot: [] as number[], ref: [] as number[] };
    const cpu = { bot: [] as number[], ref: [] as number[] };
    const window = quick ? 1 : 10;
    let last = { bot: cpuTicks(bot.pid!), ref: cpuTicks(ref.pid!), at: performance.now() };
    for (let i = 1; i <= seconds; i++) {
      await sleep(1000);
      rss.bot.push(rssMiB(bot.pid!));
      rss.ref.push(rssMiB(ref.pid!));
      if (i % window === 0) {
        const now = { bot: cpuTicks(bot.pid!), ref: cpuTicks(ref.pid!), at: performance.now() };
        const wallTicks = ((now.at - last.at) / 1000) * TICKS;
        cpu.bot.push((100 * (now.bot - last.bot)) / wallTicks);
        cpu.ref.push((100 * (now.ref - last.ref)) / wallTicks);
        last = now;
      }
    }
    const figures: Figure[] = [
      judge({
        scenario: 'idle-footprint',
        figure: 'bot idle RSS, monitor running',
        unit: 'MB',
        runtime: runtime(),
        stats: stats(rss.bot),
        reference: { label: 'bare node process', stats: stats(rss.ref) },
        ratio: round(stats(rss.bot).median / stats(rss.ref).median),
        goal: { on: 'max', op: '<', value: 100 },
        note: `clusterbot start (compiled), 3-node cluster, MONITOR_INTERVAL_SECONDS ${c.config.MONITOR_INTERVAL_SECONDS}; one sample a second for ${seconds} s; MB = MiB of VmRSS`,
      }),
      judge({
        scenario: 'idle-footprint',
        figure: 'bot idle CPU, monitor running',
        unit: '% of one core',
        runtime: runtime(),
        stats: stats(cpu.bot),
        reference: { label: 'bare node process', stats: stats(cpu.ref) },
        ratio: null,
        goal: null,
        note: `utime+stime over ${window}-s windows`,
      }),
    ];
    return figures;
  } finally {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited(child), sleep(10_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await c.destroy();
  }
};
