import { arg, defineCommand } from '../src/core/command.js';
import type { CommandContext } from '../src/core/command.js';
import type { Principal } from '../src/core/context.js';
import { askTypedConfirmation, confirmTyped, TYPED_CODE } from '../src/core/confirm.js';
import { UserError } from '../src/errors.js';
import { purgeBackups } from '../src/backup/reset-archive.js';
import { formatBytes } from '../src/cluster/lsn.js';
import { refusal } from '../src/cluster/failover/operation.js';
import { resetRefusal } from '../src/cluster/reset.js';
import { resetConfirmFields, resetReply, type KeptOrPurged } from '../src/present/reset-card.js';
import type { Reply } from '../src/chat/reply.js';

export default defineCommand({
  name: 'reset',
  summary: "Delete every node's data and start a fresh cluster (a second admin types a code)",
  help:
    'For lab and staging clusters (off unless RESET_ENABLED=true). Shows a card with each node, its data size and the newest backup; ' +
    'nothing happens until ANOTHER admin types /cluster reset confirm <code> in the same channel (a click is not enough; the requester can never confirm). ' +
    'Then every node is stopped, its data deleted, and the cluster initialised again as /cluster up does. Backups and the WAL archive are kept and stay ' +
    'restorable, unless `purge-backups` was asked for (the card then says so). Refused while a failover, switchover, rejoin or backup runs.',
  level: 'admin',
  mutates: true,
  slow: true,
  args: {
    step: arg.optionalChoice('purge-backups: delete the backups too; confirm: confirm a reset card with its code', ['purge-backups', 'confirm'] as const),
    code: arg.string('the code shown on the reset card (after confirm)', TYPED_CODE, 'is not a code like K7Q-X2M'),
  },
  examples: ['/cluster reset', '/cluster reset purge-backups', '/cluster reset confirm K7Q-X2M'],
  async run(ctx, { step, code }) {
    if (step === 'confirm') {
      if (!code) throw new UserError('reset confirm needs the code shown on the reset card', 'type /cluster reset confirm <code>, e.g. /cluster reset confirm K7Q-X2M');
      return confirmTyped(ctx, 'reset', code);
    }
    if (code) throw new UserError('a code goes only after "confirm"', 'usage: /cluster reset confirm <code>');
    const s = ctx.services;
    const off = resetRefusal(s);
    if (off) throw refusal(off);
    const service = s.backups;
    const backupRunning = service.runningNow();
    if (backupRunning) throw new UserError(`${backupRunning} is in progress`, 'wait for it to finish, then ask for the reset again', 'busy');
    const purge = step === 'purge-backups';
    const [nodes, newest] = await Promise.all([ctx.backend.resetNodes(), service.last()]);
    const sets = await service.info().then((i) => i.sets).catch(() => []);
    const legacy = service.legacy();
    const onDisk = { count: sets.length + legacy.length, bytes: sets.reduce((sum, e) => sum + e.repoBytes, 0) + legacy.reduce((sum, e) => sum + e.sizeBytes, 0) };
    const { text, fields } = resetConfirmFields(nodes, newest, onDisk, purge);
    const requester = ctx.user;
    return askTypedConfirmation(ctx, {
      command: 'reset',
      summary: purge ? "reset the cluster (delete every node's data) and purge every backup" : "reset the cluster (delete every node's data)",
      confirmLabel: 'Reset',
      level: 'admin',
      text,
      fields,
      data: { nodes, newestBackup: newest, backups: onDisk, purgeBackups: purge },
      run: (c) => runReset(c, requester, purge),
    });
  },
});

async function runReset(c: CommandContext, requester: Principal, purge: boolean): Promise<Reply> {
  const s = c.services;
  const service = s.backups;
  const lines: string[] = [];
  const progress = (line: string) => {
    lines.push(line);
    void c.progress({ title: 'Resetting the cluster…', severity: 'warn', text: lines.slice(-12).join('\n') });
  };
  const sets = await service.info().then((i) => i.sets.length).catch(() => 0);
  const afterDelete = (): KeptOrPurged => {
    if (purge) {
      const p = purgeBackups(s.config, sets);
      return { ...p, line: `Purged (purge-backups): ${p.backups} backups and the WAL archive, ${formatBytes(p.bytes)}.` };
    }
    return {
      line: sets
        ? `Kept ${sets} backups in the pgBackRest repository; the fresh cluster joins the stanza as a new database (stanza-upgrade), so /cluster restore-check still restores them.`
        : 'There were no backups to keep.',
    };
  };
  const audit = (outcome: string, detail: Record<string, unknown>, ms?: number) =>
    s.audit.record({ kind: 'event', user: c.user.id, platform: c.user.platform, channel: c.surface.channel, command: 'reset', outcome, detail: { requestedBy: requester.id, confirmedBy: c.user.id, purgeBackups: purge, ...detail }, ms });
  try {
    const r = await c.backend.resetCluster({ requestedBy: requester, confirmedBy: c.user, purgeBackups: purge, progress }, { whileIdle: (what, fn) => service.whileIdle(what, fn), afterDelete });
    const reply = resetReply(r, requester.display, c.user.display);
    audit(reply.failed ? 'failed' : 'done', { deleted: r.deleted, backups: r.backups.line, outcomes: r.outcomes.map((o) => `${o.node}: ${o.action}`) }, r.ms);
    return reply;
  } catch (e) {
    audit('failed', { error: (e as Error).message, progress: lines });
    throw e;
  }
}
