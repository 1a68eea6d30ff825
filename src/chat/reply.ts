// The platform-neutral reply every command returns; each adapter renders it natively.
export type Severity = 'info' | 'ok' | 'warn' | 'crit';

export interface Field {
  label: string;
  value: string;
  /** Short fields may sit side by side (Slack fields, Discord inline fields). */
  short?: boolean;
}

export interface Table {
  title?: string;
  columns: string[];
  rows: string[][];
}

export interface Button {
  /** Opaque id the adapter sends back on click; for confirmations a single-use pending-action id. */
  actionId: string;
  label: string;
  style?: 'primary' | 'danger' | 'default';
  /** Text of the platform's own "are you sure?" dialog, where it has one. */
  confirmText?: string;
}

export interface Image {
  path: string;
  filename: string;
  alt: string;
}

export interface Reply {
  title: string;
  severity: Severity;
  text?: string;
  fields?: Field[];
  tables?: Table[];
  image?: Image;
  buttons?: Button[];
  /** A small footer line: timings, who did what. */
  context?: string;
  /** Machine-readable payload for `--json`. */
  data?: unknown;
  /** Only the person who asked should see it (refusals, errors). */
  ephemeral?: boolean;
  /** The command failed: one-shot CLI exits non-zero. */
  failed?: boolean;
}

export const severityEmoji: Record<Severity, string> = { info: 'ℹ️', ok: '✅', warn: '⚠️', crit: '🚨' };

export function errorReply(line: string, title = 'Error'): Reply {
  return { title, severity: 'crit', text: line, ephemeral: true, failed: true };
}

/** A handle on a message already shown, so long work can edit it in place. */
export interface MessageHandle {
  update(reply: Reply): Promise<void>;
}
