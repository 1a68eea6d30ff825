// Terminal rendering of a Reply: aligned tables, numbered buttons.
import { severityEmoji, type Reply, type Table } from '../reply.js';

export function renderTable(t: Table): string {
  const widths = t.columns.map((c, i) => Math.max(c.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  const out = [line(t.columns), widths.map((w) => '─'.repeat(w)).join('  '), ...t.rows.map(line)];
  return (t.title ? [t.title, ...out] : out).join('\n');
}

/** Render a reply; buttons are numbered from `firstButton` so the person types the number. */
export function renderText(r: Reply, firstButton = 1): string {
  const parts = [`${severityEmoji[r.severity]} ${r.title}`];
  if (r.text) parts.push(r.text);
  for (const t of r.tables ?? []) parts.push(renderTable(t));
  if (r.fields?.length) parts.push(r.fields.map((f) => `${f.label}: ${f.value}`).join('\n'));
  if (r.image) parts.push(`🖼  ${r.image.alt}: ${r.image.path}`);
  if (r.context) parts.push(r.context);
  if (r.buttons?.length) parts.push(r.buttons.map((b, i) => `[${firstButton + i}] ${b.label}`).join('   ') + '   (type the number)');
  return parts.join('\n');
}
