// CLUSTERBOT_HOME is the bot user's alone: the audit trail, logs and state files cannot be read by
// another local user, a home left 0755/0644 by an older version is tightened on start (said once
// in the log), and the nodes, which run as the postgres OS user when the bot is root, still work.
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/wait.js';

const root = process.getuid?.() === 0;
const mode = (path: string) => (statSync(path).mode & 0o7777).toString(8).padStart(4, '0');
/** Every file and folder the bot keeps for itself, as "path mode". */
const privatePaths = (home: string) =>
  ['audit.jsonl', 'audit.jsonl.mirrored', 'logs', 'logs/clusterbot.log', 'monitor', 'monitor/maintenance.json', 'chat', 'chat/slack-outbox.jsonl', 'nodes']
    .filter((p) => existsSync(`${home}/${p}`))
    .map((p) => `${p} ${mode(`${home}/${p}`)}`);
const expected = (p: string) => (statSync(p).isDirectory() ? '0700' : '0600');
const madePrivate = (home: string) => (readFileSync(`${home}/logs/clusterbot.log`, 'utf8').match(/CLUSTERBOT_HOME made private/g) ?? []).length;

/** `cat` as another OS user: its exit code and error. */
function readAs(user: string, file: string): { code: number | null; err: string } {
  const r = spawnSync('runuser', ['-u', user, '--', 'cat', file], { encoding: 'utf8' });
  return { code: r.status, err: r.stderr.trim() };
}

describe('CLUSTERBOT_HOME is private to the bot', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startTestCluster();
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('after a fresh start and some commands: home 0710/0700, folders 0700, files 0600, and the cluster works', async () => {
    expect((await c.run('/cluster status')).failed).toBeFalsy();
    expect((await c.run('/cluster maintenance on 5m')).failed).toBeFalsy();
    expect((await c.run('/cluster maintenance off')).failed).toBeFalsy();
    await eventually('the audit trail and the log file', () => privatePaths(c.home), (v) => v.some((p) => p.startsWith('audit.jsonl ')) && v.some((p) => p.startsWith('logs/clusterbot.log ')));
    for (const line of privatePaths(c.home)) expect(line).toBe(`${line.split(' ')[0]} ${expected(`${c.home}/${line.split(' ')[0]}`)}`);
    expect(mode(c.home)).toBe(root ? '0710' : '0700');
    // The nodes run (as postgres when we are root) behind that home: every replica streams.
    const status = await c.run('/cluster status');
    expect(status.title).toMatch(/2\/2 replicas streaming/);
  });

  it.runIf(root)('another OS user cannot read the audit trail or the log; not even postgres', () => {
    for (const user of ['nobody', 'postgres']) {
      for (const file of [`${c.home}/audit.jsonl`, `${c.home}/logs/clusterbot.log`]) {
        const r = readAs(user, file);
        expect(r, `${user} reading ${file}`).toMatchObject({ code: 1 });
        expect(r.err).toMatch(/Permission denied/);
      }
    }
    // The bot's own user reads it (the check above is not a broken runuser).
    expect(spawnSync('runuser', ['-u', 'root', '--', 'cat', `${c.home}/audit.jsonl`]).status).toBe(0);
  });

  it('a home an older version left 0755/0644 is tightened on start, and said once in the log', async () => {
    chmodSync(c.home, 0o755);
    for (const dir of ['logs', 'monitor']) chmodSync(`${c.home}/${dir}`, 0o755);
    mkdirSync(`${c.home}/chat`, { mode: 0o755 });
    writeFileSync(`${c.home}/chat/slack-outbox.jsonl`, '', { mode: 0o644 });
    for (const file of ['audit.jsonl', 'logs/clusterbot.log', 'monitor/maintenance.json', 'chat/slack-outbox.jsonl']) chmodSync(`${c.home}/${file}`, 0o644);
    const before = madePrivate(c.home);
    // A second bot process on the same home, as `clusterbot run` beside the running bot.
    const second = await createApp(loadConfig(c.env));
    expect(privatePaths(c.home)).toEqual(privatePaths(c.home).map((l) => `${l.split(' ')[0]} ${expected(`${c.home}/${l.split(' ')[0]}`)}`));
    expect(privatePaths(c.home)).toContain('chat/slack-outbox.jsonl 0600');
    expect(privatePaths(c.home)).toContain('audit.jsonl 0600');
    expect(mode(c.home)).toBe(root ? '0710' : '0700');
    if (root) expect(readAs('nobody', `${c.home}/audit.jsonl`).code).toBe(1);
    await second.close();
    await eventually('one "made private" line in the log', () => madePrivate(c.home) - before, (n) => n === 1);
    // A start with nothing to tighten says nothing.
    const third = await createApp(loadConfig(c.env));
    const status = await third.router.handle('/cluster status', c.admin, { platform: 'shell', channel: 'test' });
    expect(status.failed).toBeFalsy();
    await third.close();
    expect(madePrivate(c.home) - before).toBe(1);
  });
});
