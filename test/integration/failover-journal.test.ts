// The bot itself killed (SIGKILL) in the middle of a failover, and started again: the real
// `clusterbot start` with its terminal chat runs the failover, TEST_PAUSE_AFTER_STEP holds it
// after one step so the kill lands in a known place, and the second start must find the operation
// journal, post what state the cluster is in, promote nothing before a new Confirm, and finish.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { journalPath, type JournalEntry } from '../../src/cluster/failover/journal.js';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { announceInterruptedOperation } from '../../src/cluster/failover/resume-offer.js';
import { BotProcess } from '../helpers/bot-process.js';
import { principal, startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { RecordingAdapter } from '../helpers/recording-adapter.js';
import { eventually } from '../helpers/wait.js';

const BIN = new URL('../../bin/clusterbot.js', import.meta.url).pathname;
const runCli = (env: Record<string, string>, line: string) =>
  promisify(execFile)(process.execPath, [BIN, 'run', line], { env: { PATH: process.env.PATH ?? '', ...env, CLUSTERBOT_ENV_FILE: '/dev/null' } });

const ENV = { MONITOR_INTERVAL_SECONDS: '1', BACKUP_SCHEDULES: 'false' };

describe('a failover interrupted by kill -9 of the bot (operation journal)', () => {
  let c: TestCluster | undefined;
  const bots: BotProcess[] = [];
  const apps: App[] = [];
  afterEach(async () => {
    for (const b of bots.splice(0)) await b.kill9();
    for (const a of apps.splice(0)) await a.close();
    await c?.destroy();
    c = undefined;
  });

  const readJournal = (): JournalEntry | null => (existsSync(journalPath(c!.home)) ? (JSON.parse(readFileSync(journalPath(c!.home), 'utf8')) as JournalEntry) : null);
  const inRecovery = async (node: string) => (await c!.sql<{ r: boolean }>(node, 'SELECT pg_is_in_recovery() AS r'))[0].r;
  const upstreamOf = async (node: string) => (await c!.sql<{ port: number | null }>(node, 'SELECT sender_port AS port FROM pg_stat_wal_receiver WHERE status = $1', ['streaming']))[0]?.port ?? null;

  /** The number the terminal chat gives a button whose label matches `label`, in output after `from`. */
  const buttonNumber = (bot: BotProcess, label: RegExp, from = 0): string | null => {
    const m = new RegExp(`\\[(\\d+)\\] ${label.source}`).exec(bot.out.slice(from));
    return m ? m[1] : null;
  };

  const bot = (env: Record<string, string> = {}): BotProcess => {
    const b = new BotProcess({ ...c!.env, ...env });
    bots.push(b);
    onTestFailed(() => console.log(`--- bot ${bots.length} output ---\n${b.out.slice(-6000)}`));
    b.start();
    return b;
  };

  /** Start a failover to standby in the first bot's terminal, confirm it, and kill -9 the bot once `step` has finished. */
  async function killDuringFailover(afterStep: string, pauseAfter: string): Promise<JournalEntry> {
    const first = bot({ TEST_PAUSE_AFTER_STEP: pauseAfter, TEST_PAUSE_MS: '300000' });
    await first.until(/Type \/cluster help/, 'the first bot\'s chat to open', 60_000);
    first.send('/cluster failover standby');
    await first.until(/\[\d+\] Promote standby/, 'the failover confirmation card', 60_000);
    first.send(buttonNumber(first, /Promote standby/)!);
    const journal = await eventually(`the journal to show "${afterStep}" finished`, readJournal, (j) => !!j?.steps.some((x) => x.step === afterStep && x.ok === true), { timeoutMs: 90_000 });
    await first.kill9();
    return journal!;
  }

  /** The resumed failover's card says done; readonly follows standby; the old primary is left stopped and fenced (also one this start brought up read-only); no journal is left. */
  async function expectFinished(second: BotProcess): Promise<void> {
    await second.until(/Failover \(resumed\) done[^\n]*standby is the primary/, 'the resumed failover to finish', 120_000);
    await eventually('readonly to stream from standby', () => upstreamOf('readonly'), (p) => p === c!.app.services.node('standby').port, { timeoutMs: 60_000 });
    expect(existsSync(journalPath(c!.home))).toBe(false);
    expect(await c!.app.services.runtime.isRunning(c!.app.services.node('primary'))).toBe(false);
    expect(await c!.app.services.runtime.isFenced(c!.app.services.node('primary'))).toBe(true);
  }

  it('killed after the fence, before the promotion: on restart it says no node is writable, promotes nothing until Confirm, then finishes', async () => {
    c = await startTestCluster({ env: ENV });
    const cut = await killDuringFailover('fence primary', 'fence');
    expect(cut.steps.map((x) => x.step)).not.toContain('promote standby');
    expect(existsSync(journalPath(c.home))).toBe(true);
    // The one-shot CLI cannot hold a card, but says so.
    const cli = await runCli(c.env, '/cluster status');
    expect(cli.stderr).toMatch(/failover standby ← primary was interrupted after: fence primary \(the bot that ran it is gone\) — `clusterbot start`/);

    const second = bot();
    await second.until(/interrupted after: fence primary/, 'the recovery post naming the interrupted step', 90_000);
    const cardAt = second.out.lastIndexOf('[#alerts]', second.out.indexOf('interrupted after: fence primary'));
    const card = second.out.slice(cardAt);
    expect(cardAt).toBeGreaterThanOrEqual(0);
    expect(card).toMatch(/primary is fenced and (stopped|running read-only), no node is writable/);
    expect(card).toMatch(/Nothing is promoted until someone confirms/);
    // The card waits; the monitor runs and alerts meanwhile — and standby is still a replica then.
    await eventually('the monitor\'s first alert about the missing primary, after the recovery card', () => second.out.slice(cardAt), (o) => /\[#alerts\][^\n]*(No writable primary|Primary down)/.test(o), { timeoutMs: 60_000 });
    expect(await inRecovery('standby')).toBe(true);

    const confirmedAt = performance.now();
    second.send(buttonNumber(second, /Finish failover: promote standby/, cardAt)!);
    await eventually('standby to accept writes', () => inRecovery('standby'), (r) => r === false, { timeoutMs: 120_000, everyMs: 5 });
    // A figure for docs/reliability.md, not an assertion (speed is the bench's business).
    console.log(`failover-journal: Confirm → standby writable ${Math.round(performance.now() - confirmedAt)} ms`);
    const rows = await c.sql<{ id: string }>('standby', "INSERT INTO proyecto.logs_replicacion (evento, nodo, usuario, detalle) VALUES ('journal_test', 'standby', 'test', '{}') RETURNING id");
    expect(rows).toHaveLength(1);
    await expectFinished(second);
  });

  it('killed after the promotion: on restart it says standby is the primary and only finishes re-pointing', async () => {
    c = await startTestCluster({ env: ENV });
    await killDuringFailover('promote standby', 'promote');
    expect(await inRecovery('standby')).toBe(false);

    const second = bot();
    await second.until(/interrupted after: promote standby/, 'the recovery post naming the interrupted step', 90_000);
    const cardAt = second.out.lastIndexOf('[#alerts]', second.out.indexOf('interrupted after: promote standby'));
    expect(second.out.slice(cardAt)).toMatch(/interrupted after: promote standby;[^\n]*standby is the writable primary/);
    expect(second.out.slice(cardAt)).toMatch(/standby was promoted before the interruption/);
    await eventually('the re-point button', () => buttonNumber(second, /Finish failover: re-point readonly/, cardAt), Boolean, { timeoutMs: 30_000 });
    expect(buttonNumber(second, /Finish failover: promote/, cardAt)).toBeNull();

    second.send(buttonNumber(second, /Finish failover: re-point readonly/, cardAt)!);
    await expectFinished(second);
  });

  it('the finishing Confirm obeys the failover rules: a viewer is refused, and with REQUIRE_SECOND_APPROVER whoever confirmed the interrupted failover cannot finish it alone', async () => {
    c = await startTestCluster({ env: ENV });
    await killDuringFailover('fence primary', 'fence');
    // The bot starts again (in this process, the two-person rule on); what it posts is recorded.
    const app = await createApp(loadConfig({ ...c.env, REQUIRE_SECOND_APPROVER: 'true' }));
    apps.push(app);
    const recorder = new RecordingAdapter();
    app.notifier.add(recorder);
    await announceInterruptedOperation(app);
    const card = recorder.events.find((e) => e.channel === 'alerts')?.reply;
    expect(card?.text).toMatch(/interrupted after: fence primary; primary is fenced and stopped, no node is writable/);
    expect(card?.context).toMatch(/Must be confirmed by another admin \(two-person rule\)/);
    const confirm = card!.buttons![0].actionId;
    const surface = { platform: 'shell' as const, channel: 'terminal' };

    expect((await app.router.press(confirm, principal('victor'), surface)).text).toMatch(/only an admin can confirm/);
    expect((await app.router.press(confirm, principal('tester'), surface)).text).toMatch(/two-person rule/);
    expect(await inRecovery('standby')).toBe(true);
    const done = await app.router.press(confirm, principal('alice'), surface);
    expect(done.title).toMatch(/Failover \(resumed\) done — standby is the primary/);
    expect(await inRecovery('standby')).toBe(false);
    expect((await app.router.press(confirm, principal('bob'), surface)).text).toMatch(/already confirmed by alice/);
  });
});
