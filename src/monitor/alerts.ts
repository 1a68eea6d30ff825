// Alert lifecycle: firing → reminders → resolved, one alert per rule and subject, persisted in
// CLUSTERBOT_HOME/monitor/alerts.json so a restarted bot neither forgets nor re-posts them.
import type { Channel, PostedMessage } from '../chat/adapter.js';
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

  /** Bring chat in line with what holds now. During maintenance nothing new is posted; all is recorded. */
  async reconcile(findings: Finding[], now: number, maintenance: Maintenance | null): Promise<void> {
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
      if (seen.has(rec.key)) continue;
      delete this.state.alerts[rec.key];
      this.record(rec, 'resolved');
      await this.announceResolved(rec, now, maintenance !== null);
    }
    this.save();
  }

  private async notify(rec: AlertRecord, now: number): Promise<void> {
    const sev = rec.finding.severity;
    if (rec.messages.length === 0) {
      // First post (or retry when no adapter took it, or the end of maintenance).
      const posted = await this.notifier.post(CHANNEL, firingReply(rec, 'firing', this.reminderMinutes));
      if (posted.length === 0) return;
      rec.messages = posted;
      rec.mutedSince = null;
      rec.notifiedSeverity = sev;
      rec.lastNotifiedAt = new Date(now).toISOString();
      return;
    }
    if (sev === 'crit' && rec.notifiedSeverity === 'warn') {
      // Escalation is news: a new top-level post, and the first one edited to match.
      await this.notifier.update(rec.messages, firingReply(rec, 'firing', this.reminderMinutes));
      const posted = await this.notifier.post(CHANNEL, firingReply(rec, 'escalated', this.reminderMinutes));
      rec.messages.push(...posted);
      rec.notifiedSeverity = sev;
      rec.lastNotifiedAt = new Date(now).toISOString();
      return;
    }
    if (sev === 'warn' && rec.notifiedSeverity === 'crit') {
      await this.notifier.update(rec.messages, firingReply(rec, 'firing', this.reminderMinutes));
      rec.notifiedSeverity = sev;
      return;
    }
    const last = rec.lastNotifiedAt ? Date.parse(rec.lastNotifiedAt) : 0;
    if (now - last >= this.reminderMinutes * 60_000) {
      await this.notifier.update(rec.messages, firingReply(rec, 'firing', this.reminderMinutes));
      await this.notifier.post(CHANNEL, reminderReply(rec, now, this.reminderMinutes), rec.messages);
      rec.lastNotifiedAt = new Date(now).toISOString();
    }
  }

  private async announceResolved(rec: AlertRecord, now: number, muted: boolean): Promise<void> {
    if (rec.messages.length === 0) return;
    const reply = resolvedReply(rec, now);
    await this.notifier.update(rec.messages, reply);
    // During maintenance the edit is enough; otherwise say it where people read (the alert's thread).
    if (!muted) await this.notifier.post(CHANNEL, reply, rec.messages);
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
