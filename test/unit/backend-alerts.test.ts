// The one alert manager serves the native rules and a backend's rules alike: each reconcile speaks
// only for its own rules, a backend rule posts in its own words (firing and resolved), maintenance
// mutes it as it mutes a native rule, and Patroni's synchronous_mode maps onto the sync rules.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatAdapter, Channel, PostedMessage } from '../../src/chat/adapter.js';
import { Notifier } from '../../src/chat/notifier.js';
import type { Reply } from '../../src/chat/reply.js';
import { Audit } from '../../src/core/audit.js';
import pino from 'pino';
import { SecretMasker } from '../../src/core/secrets.js';
import { AlertManager } from '../../src/monitor/alerts.js';
import type { Maintenance } from '../../src/monitor/maintenance.js';
import type { Finding } from '../../src/monitor/rules.js';
import { syncFindings } from '../../src/monitor/sync-rules.js';
import type { PatroniMember } from '../../src/patroni/client.js';
import { patroniSyncState } from '../../src/patroni/sync-state.js';

class Posts implements ChatAdapter {
  readonly name = 'posts';
  readonly posts: Array<{ channel: Channel; reply: Reply; thread: boolean }> = [];
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async post(channel: Channel, reply: Reply, opts?: { thread?: PostedMessage }): Promise<PostedMessage> {
    this.posts.push({ channel, reply, thread: Boolean(opts?.thread) });
    return { adapter: this.name, ref: this.posts.length };
  }
  async update(): Promise<void> {}
}

const finding = (rule: string, subject: string, post?: Reply): Finding => ({
  rule, subject, node: subject, severity: 'warn', title: post?.title ?? `${rule} on ${subject}`, text: 'text', value: 'v', threshold: 't', next: 'n', post,
});
const own = (title: string): Reply => ({ title, severity: 'warn', text: 'in its own words' });
const patroniOwns = { owns: (r: string) => r.startsWith('patroni_') };
const nativeOwns = { owns: (r: string) => !r.startsWith('patroni_') };

describe('one alert manager for native and backend rules', () => {
  let dir: string;
  let chat: Posts;
  let alerts: AlertManager;
  const titles = () => chat.posts.map((p) => p.reply.title);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'clusterbot-alerts-'));
    const masker = new SecretMasker([]);
    const log = pino({ level: 'silent' });
    const notifier = new Notifier(log, masker);
    chat = new Posts();
    notifier.add(chat);
    alerts = new AlertManager(join(dir, 'alerts.json'), notifier, new Audit(join(dir, 'audit.jsonl'), masker, log), log, 30);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('each side resolves only its own alerts; a backend rule fires and resolves in its own words, once', async () => {
    await alerts.reconcile([finding('lag_bytes', 'standby')], 1000, null, nativeOwns);
    await alerts.reconcile([finding('patroni_paused', 'cluster', own('Patroni paused (maintenance on)'))], 2000, null, patroniOwns);
    await alerts.reconcile([finding('patroni_paused', 'cluster', own('Patroni paused (maintenance on)'))], 3000, null, patroniOwns);
    await alerts.reconcile([], 4000, null, nativeOwns);
    expect(titles()).toEqual(['lag_bytes on standby', 'Patroni paused (maintenance on)', 'Resolved — lag_bytes on standby']);
    expect(alerts.firing().map((a) => a.key)).toEqual(['patroni_paused:cluster']);
    await alerts.reconcile([], 5000, null, { ...patroniOwns, resolutions: { 'patroni_paused:cluster': own('Patroni resumed (maintenance off)') } });
    expect(titles().at(-1)).toBe('Patroni resumed (maintenance off)');
    expect(chat.posts.at(-1)!.thread).toBe(false);
    expect(alerts.firing()).toEqual([]);
  });

  it('a backend rule is muted by maintenance like a native one, and posted when maintenance ends', async () => {
    const m: Maintenance = { until: new Date(10_000).toISOString(), by: 'olga', at: new Date(0).toISOString() };
    await alerts.reconcile([finding('patroni_unreachable', 'cluster', own('Patroni API unreachable'))], 1000, m, patroniOwns);
    await alerts.event(finding('patroni_leader', 'standby', own('Leader changed: primary → standby')), 1000, m);
    expect(titles()).toEqual([]);
    expect(alerts.firing().map((a) => a.mutedSince)).toEqual([new Date(1000).toISOString()]);
    await alerts.reconcile([finding('patroni_unreachable', 'cluster', own('Patroni API unreachable'))], 11_000, null, patroniOwns);
    expect(titles()).toEqual(['Patroni API unreachable']);
    await alerts.event(finding('patroni_leader', 'standby', own('Leader changed: primary → standby')), 12_000, null);
    expect(titles()).toEqual(['Patroni API unreachable', 'Leader changed: primary → standby']);
  });

  it('resolves nothing while the backend rules warm up (resolveMissing: false)', async () => {
    await alerts.reconcile([finding('patroni_paused', 'cluster', own('Patroni paused (maintenance on)'))], 1000, null, patroniOwns);
    await alerts.reconcile([], 2000, null, { ...patroniOwns, resolveMissing: false });
    expect(alerts.firing().map((a) => a.key)).toEqual(['patroni_paused:cluster']);
  });
});

describe("Patroni's synchronous_mode as the sync rules see it", () => {
  const member = (name: string, role: string, tags: PatroniMember['tags'] = {}): PatroniMember => ({ name, role, state: 'running', tags });

  it('on with no sync_standby is degraded after SYNC_DEGRADE_SECONDS; strict blocks; a sync_standby clears it', () => {
    const alone = [member('standby', 'leader'), member('readonly', 'replica', { nofailover: true, nosync: true })];
    const first = patroniSyncState({ synchronous_mode: true }, alone, null, 1000);
    expect(first).toMatchObject({ mode: 'on', degraded: true, noSyncSince: 1000, primary: 'standby', members: [] });
    expect(syncFindings(first, 10, 5000)).toEqual([]);
    const later = patroniSyncState({ synchronous_mode: true }, alone, first, 12_000);
    expect(later.noSyncSince).toBe(1000);
    expect(syncFindings(later, 10, 12_000).map((f) => [f.rule, f.severity, f.title])).toEqual([['sync_degraded', 'crit', 'Synchronous replication DEGRADED to asynchronous']]);
    const strict = patroniSyncState({ synchronous_mode: true, synchronous_mode_strict: true }, alone, later, 30_000);
    expect(syncFindings(strict, 10, 45_000).map((f) => f.rule)).toEqual(['sync_blocked']);
    const healthy = patroniSyncState({ synchronous_mode: true }, [member('primary', 'leader'), member('standby', 'sync_standby')], later, 50_000);
    expect(healthy).toMatchObject({ degraded: false, noSyncSince: null, syncNodes: ['standby'], active: true });
    expect(syncFindings(healthy, 10, 60_000)).toEqual([]);
    expect(patroniSyncState({}, alone, null, 1).mode).toBe('off');
  });
});
