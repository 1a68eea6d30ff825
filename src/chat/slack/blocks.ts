// Block Kit rendering of the platform-neutral Reply. Severity shows twice: an emoji in the title
// line, and a coloured bar down the side of the attachment that holds the body blocks.
import { severityEmoji, type Button, type Reply, type Severity, type Table } from '../reply.js';

/** The part of a Slack message body a Reply renders to (chat.postMessage, chat.update, respond, ack). */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
  attachments: Array<{ color: string; fallback: string; blocks: SlackBlock[] }>;
}

export type SlackBlock = Record<string, unknown> & { type: string };

export const severityColor: Record<Severity, string> = { info: '#439FE0', ok: '#2EB67D', warn: '#ECB22E', crit: '#E01E5A' };

// Slack's limits: 3000 characters per section text, 2000 per field, 10 fields per section,
// 50 blocks per message, 75 characters per button label.
const MAX_TEXT = 2900;
const MAX_FIELD = 1900;
const MAX_BLOCKS = 50;

const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** Escape the three characters Slack treats as markup in mrkdwn text. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const mrkdwn = (text: string) => ({ type: 'mrkdwn', text: clip(text, MAX_TEXT) });
const plain = (text: string, max = 150) => ({ type: 'plain_text', text: clip(text, max), emoji: true });

/**
 * A table as one line per row, readable on a phone: the first cell in bold, then
 * `column value` pairs; empty cells ('–', '') are left out.
 */
export function tableLines(t: Table): string[] {
  return t.rows.map((row) => {
    const [first, ...rest] = row;
    const cells = rest
      .map((v, i) => ({ col: t.columns[i + 1] ?? '', v: v ?? '' }))
      .filter((c) => c.v !== '' && c.v !== '–')
      .map((c) => `${escapeMrkdwn(c.col)} \`${escapeMrkdwn(c.v)}\``);
    return `*${escapeMrkdwn(first ?? '')}*${cells.length ? ` — ${cells.join(' · ')}` : ''}`;
  });
}

function tableBlocks(t: Table): SlackBlock[] {
  const blocks: SlackBlock[] = [];
  if (t.title) blocks.push({ type: 'section', text: mrkdwn(`*${escapeMrkdwn(t.title)}*`) });
  // Several rows share a section until it would exceed Slack's text limit.
  let chunk: string[] = [];
  const flush = () => {
    if (chunk.length) blocks.push({ type: 'section', text: mrkdwn(chunk.join('\n')) });
    chunk = [];
  };
  for (const line of tableLines(t)) {
    if ([...chunk, line].join('\n').length > MAX_TEXT) flush();
    chunk.push(line);
  }
  flush();
  return blocks;
}

function buttonElement(b: Button): Record<string, unknown> {
  const el: Record<string, unknown> = {
    type: 'button',
    action_id: b.actionId,
    value: b.actionId,
    text: plain(b.label, 75),
  };
  if (b.style === 'primary' || b.style === 'danger') el.style = b.style;
  if (b.confirmText) {
    el.confirm = {
      title: plain('Are you sure?', 100),
      text: plain(b.confirmText, 300),
      confirm: plain(b.label, 30),
      deny: plain('Back', 30),
      ...(b.style === 'danger' ? { style: 'danger' } : {}),
    };
  }
  return el;
}

/** The blocks of a reply, without the colour attachment (also used for tests and previews). */
export function renderBlocks(r: Reply): SlackBlock[] {
  const blocks: SlackBlock[] = [{ type: 'section', text: mrkdwn(`${severityEmoji[r.severity]} *${escapeMrkdwn(r.title)}*`) }];
  if (r.text) blocks.push({ type: 'section', text: mrkdwn(escapeMrkdwn(r.text)) });
  for (const t of r.tables ?? []) blocks.push(...tableBlocks(t));
  const fields = r.fields ?? [];
  for (let i = 0; i < fields.length; i += 10) {
    blocks.push({
      type: 'section',
      fields: fields.slice(i, i + 10).map((f) => mrkdwn(clip(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`, MAX_FIELD))),
    });
  }
  if (r.image) blocks.push({ type: 'context', elements: [mrkdwn(`📈 ${escapeMrkdwn(r.image.alt)} (file \`${escapeMrkdwn(r.image.filename)}\` below)`)] });
  const context = r.context ? [{ type: 'context', elements: [mrkdwn(escapeMrkdwn(r.context))] }] : [];
  const actions = r.buttons?.length ? [{ type: 'actions', elements: r.buttons.slice(0, 25).map(buttonElement) }] : [];
  // Keep the context line and the buttons even when a huge table is cut short.
  const room = MAX_BLOCKS - context.length - actions.length;
  const body = blocks.length > room ? [...blocks.slice(0, room - 1), { type: 'context', elements: [mrkdwn('… (cut short: too long for one Slack message)')] }] : blocks;
  return [...body, ...context, ...actions];
}

/** Plain text for notifications and clients that cannot show blocks. */
export function fallbackText(r: Reply): string {
  return escapeMrkdwn(clip(`${severityEmoji[r.severity]} ${r.title}${r.text ? ` — ${r.text.split('\n')[0]}` : ''}`, 300));
}

export function renderMessage(r: Reply): SlackMessage {
  const text = fallbackText(r);
  // With top-level blocks present, `text` only feeds notifications; the title line stays on top
  // and the body hangs in a coloured attachment.
  const [head, ...body] = renderBlocks(r);
  return { text, blocks: [head], attachments: body.length ? [{ color: severityColor[r.severity], fallback: text, blocks: body }] : [] };
}

/** The blocks of a rendered message (for callers that need to look inside). */
export function blocksOf(m: { blocks?: unknown; attachments?: Array<{ blocks?: unknown }> }): SlackBlock[] {
  return [...((m.blocks as SlackBlock[] | undefined) ?? []), ...(m.attachments ?? []).flatMap((a) => (a.blocks as SlackBlock[] | undefined) ?? [])];
}

/**
 * A card as Slack showed it (the `message` of a button click), without its buttons and with a
 * note: what a stale confirmation card becomes. Null when it has no buttons left to take off.
 */
export function withoutActions(message: { text?: string; blocks?: unknown; attachments?: unknown }, note: string): SlackMessage | null {
  const blocks = (message.blocks as SlackBlock[] | undefined) ?? [];
  const attachments = ((message.attachments as Array<{ color?: string; fallback?: string; blocks?: SlackBlock[] }> | undefined) ?? []).filter((a) => Array.isArray(a.blocks));
  const hasActions = [...blocks, ...attachments.flatMap((a) => a.blocks!)].some((b) => b.type === 'actions');
  if (!hasActions) return null;
  const strip = (list: SlackBlock[]) => list.filter((b) => b.type !== 'actions');
  const noteBlock: SlackBlock = { type: 'context', elements: [mrkdwn(escapeMrkdwn(note))] };
  const kept = attachments.map((a) => ({ color: a.color ?? severityColor.info, fallback: a.fallback ?? String(message.text ?? ''), blocks: strip(a.blocks!) }));
  if (kept.length) kept[kept.length - 1].blocks.push(noteBlock);
  return { text: String(message.text ?? note), blocks: kept.length ? strip(blocks) : [...strip(blocks), noteBlock], attachments: kept };
}
