// How an alert looks in chat at each step of its life: firing, escalated, reminder, resolved.
import type { Reply } from '../chat/reply.js';
import { formatSeconds } from '../cluster/lsn.js';
import { COMMAND_BUTTON_PREFIX } from '../core/pending.js';
import type { Finding } from './rules.js';

export type AlertPhase = 'firing' | 'escalated' | 'reminder' | 'resolved';

export interface AlertView {
  key: string;
  finding: Finding;
  since: string;
  /** Muted by maintenance when it started. */
  mutedSince?: string | null;
}

/** "Start failover…": runs /cluster failover as whoever clicks (the router checks their level). */
export const FAILOVER_BUTTON_ID = `${COMMAND_BUTTON_PREFIX}/cluster failover`;

const hhmmss = (iso: string) => `${iso.slice(11, 19)} UTC`;

function data(a: AlertView, phase: AlertPhase, extra: Record<string, unknown> = {}) {
  const f = a.finding;
  return {
    alert: { key: a.key, rule: f.rule, subject: f.subject, node: f.node, severity: f.severity, phase, value: f.value, threshold: f.threshold, since: a.since, ...extra },
  };
}

function fields(a: AlertView, reminderMinutes: number) {
  const f = a.finding;
  return [
    { label: 'Node', value: f.node ?? (f.subject === 'cluster' ? 'whole cluster' : f.subject), short: true },
    { label: 'Value', value: f.value, short: true },
    { label: 'Threshold', value: f.threshold, short: true },
    { label: 'Since', value: `${hhmmss(a.since)} (reminders every ${formatMinutes(reminderMinutes)})`, short: true },
  ];
}

export function formatMinutes(m: number): string {
  return m >= 1 ? `${Number.isInteger(m) ? m : m.toFixed(1)} min` : `${Math.round(m * 60)} s`;
}

export function firingReply(a: AlertView, phase: 'firing' | 'escalated', reminderMinutes: number): Reply {
  const f = a.finding;
  const muted = a.mutedSince ? ` Muted by maintenance since ${hhmmss(a.mutedSince)}; posted now that maintenance is over.` : '';
  return {
    title: phase === 'escalated' ? `Now critical — ${f.title}` : f.title,
    severity: f.severity,
    text: `${f.text}${muted}\nNext step: ${f.next}`,
    fields: fields(a, reminderMinutes),
    buttons: f.failover ? [{ actionId: FAILOVER_BUTTON_ID, label: 'Start failover…', style: 'danger' }] : undefined,
    context: `alert ${a.key} · ${f.severity === 'crit' ? 'critical' : 'warning'}`,
    data: data(a, phase),
  };
}

export function reminderReply(a: AlertView, now: number, reminderMinutes: number): Reply {
  const f = a.finding;
  const age = formatSeconds((now - Date.parse(a.since)) / 1000);
  return {
    title: `Still firing after ${age} — ${f.title}`,
    severity: f.severity,
    text: `Value now: ${f.value} (threshold: ${f.threshold}).\nNext step: ${f.next}`,
    buttons: f.failover ? [{ actionId: FAILOVER_BUTTON_ID, label: 'Start failover…', style: 'danger' }] : undefined,
    context: `alert ${a.key} · reminder every ${formatMinutes(reminderMinutes)}`,
    data: data(a, 'reminder'),
  };
}

export function resolvedReply(a: AlertView, now: number): Reply {
  const f = a.finding;
  const age = formatSeconds((now - Date.parse(a.since)) / 1000);
  return {
    title: `Resolved — ${f.title}`,
    severity: 'ok',
    text: `Resolved at ${hhmmss(new Date(now).toISOString())} after ${age}. Last value while firing: ${f.value} (threshold: ${f.threshold}).`,
    fields: [{ label: 'Node', value: f.node ?? (f.subject === 'cluster' ? 'whole cluster' : f.subject), short: true }],
    context: `alert ${a.key} · resolved`,
    data: data(a, 'resolved', { resolvedAt: new Date(now).toISOString() }),
  };
}
