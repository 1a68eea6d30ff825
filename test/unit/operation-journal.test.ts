// The operation journal on disk and what a restarted bot decides from it, on constructed
// snapshots (the whole kill -9 story runs on a real cluster in test/integration/failover-journal).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { AppServices } from '../../src/core/command.js';
import type { Services } from '../../src/core/context.js';
import { createLogger } from '../../src/core/logger.js';
import { SecretMasker } from '../../src/core/secrets.js';
import { journalPath, journalProgress, OperationJournal, readUnfinishedJournal, type JournalEntry } from '../../src/cluster/failover/journal.js';
import { busyReason, lockPath } from '../../src/cluster/failover/lock.js';
import { foreignChannelRefusal } from '../../src/chat/confirmation-channel.js';
import { PendingActions } from '../../src/core/pending.js';
import { clusterStateLine, remainingWork } from '../../src/cluster/failover/resume.js';
import { node, snap } from '../helpers/snapshot.js';

const facts = { target: 'standby', oldPrimary: 'primary', fence: ['primary'], followers: ['readonly'], force: false };
const step = (name: string, ok?: boolean) => ({ step: name, startedAt: '2026-01-01T00:00:00.000Z', ...(ok === undefined ? {} : { finishedAt: '2026-01-01T00:00:01.000Z', ok, detail: '' }) });
const entry = (steps: JournalEntry['steps'], over: Partial<JournalEntry> = {}): JournalEntry => ({
  op: 'failover', by: 'alice', pid: 999_999_999, startedAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:01.000Z', facts, steps, ...over,
});
const fencedStopped = node('primary', { role: 'down', up: false, running: false, fenced: true, error: 'stopped' });

describe('operation journal', () => {
  const homes: string[] = [];
  afterEach(() => {
    for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
  });
  const services = (): Services => {
    const home = mkdtempSync(join(tmpdir(), 'cb-journal-'));
    homes.push(home);
    const config = loadConfig({ CLUSTERBOT_HOME: home, POSTGRES_ADMIN_PASSWORD: 'a'.repeat(12), POSTGRES_REPLICATOR_PASSWORD: 'b'.repeat(12), LOG_TO: 'stderr', LOG_LEVEL: 'silent' });
    return { config, log: createLogger(config, new SecretMasker([])) } as unknown as Services;
  };

  it('is on disk before a step starts, with the end of the step before (one fsync per step), names who confirmed, and is gone when the operation ends', () => {
    const s = services();
    const j = new OperationJournal(s, 'failover', { by: 'alice', user: { id: 'slack:U1', platform: 'slack' } });
    const onDisk = () => JSON.parse(readFileSync(journalPath(s.config.home), 'utf8')) as JournalEntry;
    j.remember(facts);
    j.started('fence primary');
    expect(onDisk()).toMatchObject({ op: 'failover', by: 'alice', user: { id: 'slack:U1' }, pid: process.pid, facts });
    expect(journalProgress(onDisk())).toMatchObject({ fenced: [], promoted: false, cutShort: { step: 'fence primary' } });
    j.finished({ step: 'fence primary', ms: 5, ok: true, detail: 'primary stopped (fast), fenced' });
    // Not written on its own: a crash now reads as the fence cut short, and the live cluster decides.
    expect(journalProgress(onDisk())).toMatchObject({ fenced: [], cutShort: { step: 'fence primary' } });
    j.started('promote standby');
    expect(journalProgress(onDisk())).toMatchObject({ fenced: ['primary'], promoted: false, lastDone: { step: 'fence primary', detail: 'primary stopped (fast), fenced' }, cutShort: { step: 'promote standby' } });
    j.end();
    expect(existsSync(journalPath(s.config.home))).toBe(false);
  });

  it('is left alone by an operation refused before its first step (the interrupted one is still offered)', () => {
    const s = services();
    writeFileSync(journalPath(s.config.home), JSON.stringify(entry([step('fence primary', true)])));
    const refused = new OperationJournal(s, 'failover', { by: 'bob' });
    refused.end();
    expect(readUnfinishedJournal(s.config.home)).toMatchObject({ by: 'alice', facts: { target: 'standby' } });
  });

  it('is unfinished only when its writer is gone: a live process holding the operation lock is still running it', () => {
    const s = services();
    const home = s.config.home;
    writeFileSync(journalPath(home), JSON.stringify(entry([step('fence primary', true)])));
    expect(readUnfinishedJournal(home)?.facts.target).toBe('standby');
    // A `clusterbot run --confirm` beside the bot: its pid is alive and holds the lock.
    writeFileSync(journalPath(home), JSON.stringify(entry([step('fence primary', true)], { pid: process.pid })));
    writeFileSync(lockPath(home), JSON.stringify({ op: 'failover', by: 'alice', pid: process.pid, at: new Date().toISOString(), token: 't' }));
    expect(readUnfinishedJournal(home)).toBeNull();
    // A restarted container runs its bot as pid 1 again: a journal and lock from before this process started are a predecessor's.
    const before = new Date(Date.now() - process.uptime() * 1000 - 60_000).toISOString();
    writeFileSync(journalPath(home), JSON.stringify(entry([step('fence primary', true)], { pid: process.pid, startedAt: before })));
    writeFileSync(lockPath(home), JSON.stringify({ op: 'failover', by: 'alice', pid: process.pid, at: before, token: 't' }));
    expect(readUnfinishedJournal(home)?.facts.target).toBe('standby');
    expect(busyReason(home)).toBeNull();
  });
});

describe('what a restarted bot finishes', () => {
  it('after the fence, with no writable node: promote the target (fencing the old primary again), then re-point the rest', () => {
    const s = snap([fencedStopped, node('standby'), node('readonly')]);
    const e = entry([step('preflight', true), step('fence primary', true)]);
    expect(remainingWork(e, s)).toEqual({ kind: 'promote', target: 'standby', fence: ['primary'], followers: ['readonly'] });
    expect(clusterStateLine(e, s)).toBe('primary is fenced and stopped, no node is writable');
  });

  it('after the promotion: only the replicas not streaming from the new primary, and an old primary running again', () => {
    const e = entry([step('fence primary', true), step('promote standby', true)]);
    const readonlyOnOld = node('readonly', { streaming: true, upstream: 'primary' });
    expect(remainingWork(e, snap([fencedStopped, node('standby', { role: 'primary' }), readonlyOnOld]))).toEqual({ kind: 'repoint', target: 'standby', fence: [], followers: ['readonly'] });
    const readOnlyOld = node('primary', { fenced: true, role: 'replica' });
    const settled = node('readonly', { streaming: true, upstream: 'standby' });
    expect(remainingWork(e, snap([readOnlyOld, node('standby', { role: 'primary' }), settled]))).toEqual({ kind: 'repoint', target: 'standby', fence: ['primary'], followers: [] });
    expect(remainingWork(e, snap([fencedStopped, node('standby', { role: 'primary' }), settled]))).toMatchObject({ kind: 'none', line: expect.stringMatching(/nothing left to finish/) });
  });

  it('offers nothing when the old primary still accepts writes, on a split brain, with the target down, or for another operation', () => {
    const e = entry([step('preflight', true), step('fence primary')]);
    const oldStillUp = snap([node('primary', { role: 'primary' }), node('standby'), node('readonly')]);
    expect(remainingWork(e, oldStillUp)).toMatchObject({ kind: 'none', line: expect.stringMatching(/^primary accepts writes and standby was not promoted/) });
    expect(clusterStateLine(e, oldStillUp)).toBe('primary is NOT fenced and accepts writes, primary is the writable primary');
    const both = snap([node('primary', { role: 'primary' }), node('standby', { role: 'primary' }), node('readonly')]);
    expect(remainingWork(e, both)).toMatchObject({ kind: 'none', line: expect.stringMatching(/all accept writes/) });
    const targetDown = snap([fencedStopped, node('standby', { role: 'down', up: false, running: false, error: 'stopped' }), node('readonly')]);
    expect(remainingWork(e, targetDown)).toMatchObject({ kind: 'none', line: expect.stringMatching(/\/cluster start standby/) });
    expect(remainingWork(entry([step('stop primary (clean)', true)], { op: 'switchover' }), snap([fencedStopped, node('standby'), node('readonly')]))).toMatchObject({ kind: 'none' });
  });
});

describe('the Confirm of a card the bot posted to the alerts channel', () => {
  it('is taken from the Slack or Discord alert channel, and refused from any other channel', () => {
    const config = loadConfig({ POSTGRES_ADMIN_PASSWORD: 'a'.repeat(12), POSTGRES_REPLICATOR_PASSWORD: 'b'.repeat(12), SLACK_ALERT_CHANNEL: 'C0ALERTS', DISCORD_ALERT_CHANNEL: '123456789012' });
    const refusals: unknown[] = [];
    const pending = new PendingActions(120);
    const s = { config, pending, audit: { record: (e: unknown) => refusals.push(e) } } as unknown as AppServices;
    const who = { id: 'slack:U1', display: 'alice', platform: 'slack' as const };
    const { buttons } = pending.create({ command: 'failover', summary: 'finish the failover to standby', requester: who, channel: 'alerts', level: 'admin', confirmLabel: 'Finish failover', run: async () => ({ title: '', severity: 'ok' }) });
    const confirm = buttons[0].actionId;
    expect(foreignChannelRefusal(s, confirm, 'C0ALERTS', who)).toBeNull();
    expect(foreignChannelRefusal(s, confirm, '123456789012', who)).toBeNull();
    expect(foreignChannelRefusal(s, confirm, 'C0OTHER', who)?.text).toMatch(/belongs to another channel/);
    expect(refusals).toHaveLength(1);
  });
});
