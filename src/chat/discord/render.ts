// Reply → a Discord message: one embed (colour by severity, fields, tables as code blocks),
// buttons as action rows (red for danger), an image as an attachment shown inside the embed.
import {
  ButtonStyle,
  ComponentType,
  type APIActionRowComponent,
  type APIButtonComponentWithCustomId,
  type APIEmbed,
  type APIComponentInMessageActionRow,
} from 'discord-api-types/v10';
import { basename } from 'node:path';
import { severityEmoji, type Button, type Reply, type Severity } from '../reply.js';
import { renderTable } from '../shell/render.js';

export const severityColour: Record<Severity, number> = { info: 0x3498db, ok: 0x2ecc71, warn: 0xf39c12, crit: 0xe74c3c };

export interface DiscordMessage {
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIComponentInMessageActionRow>[];
  /** Local files to upload with the message (the embed refers to them as attachment://name). */
  files: Array<{ path: string; name: string }>;
}

// Discord's limits on an embed.
const LIMIT = { title: 256, description: 4096, fields: 25, fieldName: 256, fieldValue: 1024, footer: 2048, customId: 100 };

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function codeBlock(text: string, room: number): string {
  const body = text.replace(/```/g, "'''");
  if (body.length + 8 <= room) return `\`\`\`\n${body}\n\`\`\``;
  const lines = body.split('\n');
  const kept: string[] = [];
  let used = 40;
  for (const l of lines) {
    if (used + l.length + 1 > room) break;
    kept.push(l);
    used += l.length + 1;
  }
  return `\`\`\`\n${kept.join('\n')}\n… ${lines.length - kept.length} more lines\n\`\`\``;
}

function description(r: Reply): string | undefined {
  const parts: string[] = [];
  if (r.text) parts.push(r.text);
  for (const t of r.tables ?? []) {
    const used = parts.join('\n').length;
    const room = LIMIT.description - used - 16;
    if (room < 60) break;
    if (t.title) parts.push(`**${cut(t.title, 200)}**`);
    parts.push(codeBlock(renderTable({ ...t, title: undefined }), room - (t.title?.length ?? 0)));
  }
  const text = parts.join('\n');
  return text ? cut(text, LIMIT.description) : undefined;
}

const buttonStyle = (b: Button) => (b.style === 'danger' ? ButtonStyle.Danger : b.style === 'primary' ? ButtonStyle.Primary : ButtonStyle.Secondary);

export function renderButtons(buttons: Button[], disabled = false): APIActionRowComponent<APIComponentInMessageActionRow>[] {
  const usable = buttons.filter((b) => b.actionId.length <= LIMIT.customId).slice(0, 25);
  const rows: APIActionRowComponent<APIComponentInMessageActionRow>[] = [];
  for (let i = 0; i < usable.length; i += 5) {
    rows.push({
      type: ComponentType.ActionRow,
      components: usable.slice(i, i + 5).map(
        (b): APIButtonComponentWithCustomId => ({ type: ComponentType.Button, custom_id: b.actionId, label: cut(b.label, 80), style: buttonStyle(b), disabled }),
      ),
    });
  }
  return rows;
}

/** The same rows with every button disabled (a handled confirmation card). */
export function disableComponents(rows: unknown[]): APIActionRowComponent<APIComponentInMessageActionRow>[] {
  return (rows as APIActionRowComponent<APIComponentInMessageActionRow>[]).map((row) => ({
    ...row,
    components: row.components.map((c) => ({ ...c, disabled: true })),
  }));
}

export function renderMessage(r: Reply): DiscordMessage {
  const embed: APIEmbed = {
    title: cut(`${severityEmoji[r.severity]} ${r.title}`, LIMIT.title),
    color: severityColour[r.severity],
    description: description(r),
    fields: (r.fields ?? []).slice(0, LIMIT.fields).map((f) => ({
      name: cut(f.label || '-', LIMIT.fieldName),
      value: cut(f.value || '–', LIMIT.fieldValue),
      inline: f.short ?? false,
    })),
  };
  if (r.context) embed.footer = { text: cut(r.context, LIMIT.footer) };
  const files: DiscordMessage['files'] = [];
  if (r.image) {
    const name = basename(r.image.filename).replace(/[^\w.-]/g, '_');
    files.push({ path: r.image.path, name });
    embed.image = { url: `attachment://${name}` };
  }
  return { embeds: [embed], components: renderButtons(r.buttons ?? []), files };
}
