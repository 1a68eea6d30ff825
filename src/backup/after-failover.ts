// After a failover or switchover (issue 24 item 4): the archive may miss the old primary's last WAL,
// so point-in-time recovery to a time after the switch is only sure from a backup taken on the new
// timeline. BACKUP_AFTER_FAILOVER: offer a "Take a full backup now" button on the result card, take
// it at once (auto), or do nothing (off).
import type { Reply } from '../chat/reply.js';
import type { Config } from '../config.js';
import { COMMAND_BUTTON_PREFIX } from '../core/pending.js';
import { errorLine } from '../errors.js';
import type { BackupService } from './service.js';

export const BACKUP_NOW_BUTTON = `${COMMAND_BUTTON_PREFIX}/cluster backup full`;

interface Ctx {
  services: { config: Config; backups: BackupService };
  progress(reply: Reply): Promise<void>;
}

const NOTE = 'Backups taken before the switch may not restore to a time after it (the archive can miss the old primary\'s last WAL): take a full backup on the new timeline.';

/** The result card of a failover or switchover, with the backup offer (or the automatic backup's outcome). */
export async function withBackupAfterSwitch(ctx: Ctx, reply: Reply): Promise<Reply> {
  const mode = ctx.services.config.BACKUP_AFTER_FAILOVER;
  const data = reply.data as { ok?: boolean; newPrimary?: string | null } | undefined;
  if (mode === 'off' || reply.failed || !data?.ok) return reply;
  if (mode === 'offer') {
    return {
      ...reply,
      text: [reply.text, NOTE].filter(Boolean).join('\n'),
      buttons: [...(reply.buttons ?? []), { actionId: BACKUP_NOW_BUTTON, label: 'Take a full backup now', style: 'primary' }],
      data: { ...(reply.data as object), backupAfterSwitch: 'offered' },
    };
  }
  await ctx.progress({ ...reply, context: 'taking a full backup on the new timeline (BACKUP_AFTER_FAILOVER=auto)…' }).catch(() => undefined);
  try {
    const { set } = await ctx.services.backups.take('full');
    const { set: checked, result } = await ctx.services.backups.verify(set.id);
    const line = result.ok ? `Full backup ${checked.id} taken on timeline ${checked.timeline} and verified (BACKUP_AFTER_FAILOVER=auto).` : `⚠ Full backup ${checked.id} taken but VERIFICATION FAILED: ${result.problems[0]}`;
    return { ...reply, text: [reply.text, line].filter(Boolean).join('\n'), data: { ...(reply.data as object), backupAfterSwitch: { id: checked.id, verified: result.ok } } };
  } catch (e) {
    return {
      ...reply,
      severity: reply.severity === 'crit' ? 'crit' : 'warn',
      text: [reply.text, `⚠ The automatic full backup after the switch FAILED: ${errorLine(e)} — take one with /cluster backup full.`].filter(Boolean).join('\n'),
      data: { ...(reply.data as object), backupAfterSwitch: { error: errorLine(e) } },
    };
  }
}
