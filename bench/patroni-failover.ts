// Benchmark scenario (issue 11): Patroni's automatic failover time with its default settings
// beside a tuned one (ttl / loop_wait / retry_timeout), and the bot's time to alert, in one run.
// Run: npm run bench:patroni  → bench/results/patroni-failover.json + a markdown table.
import { mkdirSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import type { Config } from '../src/config.js';
import { adminClientConfig } from '../src/db/tls.js';
import { startPatroniBot, watchPatroni } from '../test/patroni/app.js';
import { sleep, startPatroniCluster, type PatroniHarnessOptions } from '../test/patroni/harness.js';

interface Result {
  setting: string;
  ttl: number;
  loopWait: number;
  retryTimeout: number;
  killToAlertMs: number | null;
  killToWritableMs: number | null;
  killToPromotedPostMs: number | null;
}

async function writable(config: Config, port: number): Promise<boolean> {
  const c = new pg.Client(adminClientConfig(config, { host: '127.0.0.1', port }, { connectionTimeoutMillis: 500 }));
  c.on('error', () => undefined);
  try {
    await c.connect();
    return !(await c.query('SELECT pg_is_in_recovery() AS r')).rows[0].r;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function scenario(setting: string, opts: Required<Pick<PatroniHarnessOptions, 'ttl' | 'loopWait' | 'retryTimeout'>>): Promise<Result> {
  const h = await startPatroniCluster(opts);
  const bot = await startPatroniBot(h, { PATRONI_WATCH_INTERVAL_MS: '500' });
  const watch = await watchPatroni(bot);
  try {
    await sleep(2000);
    bot.chat.posts.length = 0;
    const standby = h.member('standby');
    const killed = Date.now();
    await h.killMember('primary');
    let killToWritableMs: number | null = null;
    const deadline = killed + 120_000;
    while (Date.now() < deadline) {
      if (killToWritableMs === null && (await writable(bot.config, standby.pgPort))) killToWritableMs = Date.now() - killed;
      if (killToWritableMs !== null && bot.chat.posts.some((p) => p.reply.title.startsWith('Patroni promoted'))) break;
      await sleep(100);
    }
    const at = (prefix: string) => bot.chat.posts.find((p) => p.reply.title.startsWith(prefix))?.at ?? null;
    const alert = at('Primary down');
    const promoted = at('Patroni promoted');
    return { setting, ...opts, killToAlertMs: alert && alert - killed, killToWritableMs, killToPromotedPostMs: promoted && promoted - killed };
  } finally {
    await watch?.stop();
    await bot.close().catch(() => undefined);
    await h.destroy();
  }
}

const results = [
  await scenario('Patroni defaults', { ttl: 30, loopWait: 10, retryTimeout: 10 }),
  await scenario('tuned', { ttl: 10, loopWait: 2, retryTimeout: 4 }),
];
const s = (ms: number | null) => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);
const table = [
  '| setting | ttl / loop_wait / retry_timeout | kill → "primary down" in chat | kill → new leader writable | kill → "Patroni promoted" in chat |',
  '|---|---|---|---|---|',
  ...results.map((r) => `| ${r.setting} | ${r.ttl} / ${r.loopWait} / ${r.retryTimeout} | ${s(r.killToAlertMs)} | ${s(r.killToWritableMs)} | ${s(r.killToPromotedPostMs)} |`),
].join('\n');
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/patroni-failover.json', `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`);
writeFileSync('bench/results/patroni-failover.md', `${table}\n`);
process.stdout.write(`${table}\n`);
