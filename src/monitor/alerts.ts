// Alert lifecycle: firing → reminders → resolved, one alert per rule and subject, persisted in
// CLUSTERBOT_HOME/monitor/alerts.json so a restarted bot neither forgets nor re-posts them.
import type { Channel, PostedMessage } from '../chat/adapter.js';
import type { Reply } from '../chat/reply.js';
import type { Notifier } from '../chat/notifier.js';
import type { Audit } from '../core/audit.js';
import type { Logger } from '../core/logger.js';
import { firingReply, reminderReply, resolvedReply } from './alert-messages.js';
import { readJson, writeJsonAtomic } from './files.js';
import type { Maintenance } from './maintenance.js';
import { alertKey, type AlertSeverity, type Finding } from './rules.js';

export interface AlertRecord {
  key: string;
  finding: Finding;
  since: string;
  /** Top-level posts of this alert: the first one, plus one per escalation to critical. */
  messages: PostedMessage[];
  lastNotifiedAt: string | null;
  /** The severity chat was last told about (an escalation is posted once). */
  notifiedSeverity: AlertSeverity | null;
  /** Fired while maintenance muted alerts: posted (with a note) once maintenance ends. */
  mutedSince: string | null;
}

export interface MonitorState {
  version: 1;
  lastPrimary: string | null;
  lastTickAt: string | null;
  alerts: Record<string, AlertRecord>;
}

const CHANNEL: Channel = 'alerts';

/** Which alerts one reconcile speaks for, and how it resolves them. */
export interface ReconcileScope {
  /** The rules these findings cover (default: all). Alerts of other rules are left as they are. */
  owns?: (rule: string) => boolean;
  /** false: new findings fire, but nothing is resolved yet (a rule still warming up after a start). */
  resolveMissing?: boolean;
  /** A rule's own resolution message, by alert key. */
  resolutions?: Record<string, Reply>;
}

export function loadMonitorState(file: string): MonitorState {
  const s = readJson<MonitorState>(file);
  if (s && s.version === 1 && s.alerts && typeof s.alerts === 'object') return s;
  return { version: 1, lastPrimary: null, lastTickAt: null, alerts: {} };
}

export class AlertManager {
  readonly state: MonitorState;

  constructor(
    private readonly file: string,
    private readonly notifier: Notifier,
    private readonly audit: Audit,
    private readonly log: Logger,
    private readonly reminderMinutes: number,
  ) {
    this.state = loadMonitorState(file);
  }

  firing(): AlertRecord[] {
    return Object.values(this.state.alerts);
  }

  save(): void {
    try {
      writeJsonAtomic(this.file, this.state);
    } catch (err) {
      this.log.error({ err }, 'could not save the alert state');
    }
  }

  /**
   * Bring chat in line with what holds now. During maintenance nothing new is posted; all is recorded.
   * `scope` says which alerts these findings speak for (the native loop and a backend's rules each
   * resolve only their own); `resolutions` gives a rule's own words for an alert it resolves.
   */
  reconcile(findings: Finding[], now: number, maintenance: Maintenance | null, scope: ReconcileScope = {}): Promise<void> {
    // The native loop and a backend's rules reconcile at their own pace: one at a time.
    const run = this.queue.then(() => this.reconcileNow(findings, now, maintenance, scope));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** A one-time event of a backend rule (a leader change it did not start): recorded, posted unless maintenance mutes it. */
  event(f: Finding, now: number, maintenance: Maintenance | null): Promise<void> {
    const run = this.queue.then(async () => {
      const rec: AlertRecord = { key: alertKey(f), finding: f, since: new Date(now).toISOString(), messages: [], lastNotifiedAt: null, notifiedSeverity: null, mutedSince: null };
      this.record(rec, maintenance ? `event muted (maintenance by ${maintenance.by})` : 'event');
      if (!maintenance) await this.notifier.post(CHANNEL, f.post ?? firingReply(rec, 'firing', this.reminderMinutes));
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private queue: Promise<void> = Promise.resolve();

  private async reconcileNow(findings: Finding[], now: number, maintenance: Maintenance | null, scope: ReconcileScope): Promise<void> {
    const owns = scope.owns ?? (() => true);
    const nowIso = new Date(now).toISOString();
    const seen = new Set<string>();
    for (const f of findings) {
      const key = alertKey(f);
      if (seen.has(key)) continue;
      seen.add(key);
      let rec = this.state.alerts[key];
      if (!rec) {
        rec = { key, finding: f, since: nowIso, messages: [], lastNotifiedAt: null, notifiedSeverity: null, mutedSince: maintenance ? nowIso : null };
        this.state.alerts[key] = rec;
        this.record(rec, maintenance ? `muted (maintenance by ${maintenance.by})` : 'firing');
      } else {
        const before = rec.finding.severity;
        rec.finding = f;
        if (before !== f.severity) this.record(rec, f.severity === 'crit' ? 'escalated to critical' : 'back to warning');
      }
      if (!maintenance) await this.notify(rec, now);
    }
    for (const rec of Object.values(this.state.alerts)) {
      if (seen.has(rec.key) || !owns(rec.finding.rule) || scope.resolveMissing === false) continue;
      delete this.state.alerts[rec.key];
      this.record(rec, 'resolved');
      await this.announceResolved(rec, now, maintenance !== null, scope.resolutions?.[rec.key]);
    }
    this.save();
  }

  private async notify(rec: AlertRecord, now: number): Promise<void> {
    const sev = rec.finding.severity;
    if (rec.messages.length === 0) {
      // First post (or retry when no adapter took it, or the end of maintenance).
      const posted = await this.notifier.post(CHANNEL, this.firingPost(rec));
      if (posted.length === 0) return;
      rec.messages = posted;
      rec.mutedSince = null;
      rec.notifiedSeverity = sev;
      rec.lastNotifiedAt = new Date(now).toISOString();
      return;
    }
    if (sev === 'crit' && rec.notifiedSeverity === 'warn') {
      // Escalation is news: a new top-level post, and the first one edited to match.
      await this.notifier.update(rec.messages, this.firingPost(rec));
      const posted = await this.notifier.post(CHANNEL, firingReply(rec, 'escalated', this.reminderMinutes));
      rec.messages.push(...posted);
      rec.notifiedSeverity = sev;
      rec.lastNotifiedAt = new Date(now).toISOString();
      return;
    }
    if (sev === 'warn' && rec.notifiedSeverity === 'crit') {
      await this.notifier.update(rec.messages, this.firingPost(rec));
      rec.notifiedSeverity = sev;
      return;
    }
    const last = rec.lastNotifiedAt ? Date.parse(rec.lastNotifiedAt) : 0;
    if (now - last >= this.reminderMinutes * 60_000) {
      await this.notifier.update(rec.messages, this.firingPost(rec));
      await this.notifier.post(CHANNEL, reminderReply(rec, now, this.reminderMinutes), rec.messages);
      rec.lastNotifiedAt = new Date(now).toISOString();
    }
  }

  /** The first post of an alert: the rule's own words when it has them, else the alert card. */
  private firingPost(rec: AlertRecord): Reply {
    return rec.finding.post ?? firingReply(rec, 'firing', this.reminderMinutes);
  }

  private async announceResolved(rec: AlertRecord, now: number, muted: boolean, own?: Reply): Promise<void> {
    if (rec.messages.length === 0) return;
    const reply = resolvedReply(rec, now);
    await this.notifier.update(rec.messages, reply);
    // During maintenance the edit is enough; otherwise say it where people read (the alert's thread),
    // or, in a rule's own words (Patroni promoted …), in the channel.
    if (muted) return;
    if (own) await this.notifier.post(CHANNEL, own);
    else await this.notifier.post(CHANNEL, reply, rec.messages);
  }

  private record(rec: AlertRecord, outcome: string): void {
    const f = rec.finding;
    this.audit.record({
      kind: 'auto',
      user: 'monitor',
      platform: 'system',
      command: 'alert',
      node: f.node ?? undefined,
      outcome,
      detail: { key: rec.key, rule: f.rule, severity: f.severity, title: f.title, value: f.value, threshold: f.threshold },
    });
  }
}
