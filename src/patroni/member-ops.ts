// Acting on one Patroni member (restart, reinitialize), then observing the result over SQL.
import type { Reply } from '../chat/reply.js';
import type { CommandContext } from '../core/command.js';
import { askConfirmation } from '../core/confirm.js';
import { UserError } from '../errors.js';
import { describeAnswer, isLeader, type PatroniMember } from './client.js';
import { memberFor, patroniClient, patroniSnapshot } from './snapshot.js';

export async function findMember(ctx: CommandContext, name: string): Promise<{ member: PatroniMember; members: PatroniMember[] }> {
  const { cluster } = await patroniClient(ctx.services).cluster();
  const member = memberFor(ctx.services.node(name), cluster.members);
  if (!member) throw new UserError(`${name} is not a Patroni member`, `members are: ${cluster.members.map((m) => m.name).join(', ')}`, 'not_found');
  return { member, members: cluster.members };
}

export type MemberOp = 'restart' | 'reinitialize';

/** /cluster restart on Patroni (POST /restart): the leader only after an admin confirms. */
export async function restartMember(ctx: CommandContext, node: string): Promise<Reply> {
  const { member } = await findMember(ctx, node);
  if (!isLeader(member)) return runMemberOp(ctx, node, 'restart');
  return askConfirmation(ctx, {
    command: 'restart',
    summary: `Restart the leader ${node} through Patroni`,
    confirmLabel: `Restart leader ${node}`,
    level: 'admin',
    text: `Writes fail while ${node} restarts (usually a few seconds). Patroni keeps it the leader; no failover happens.`,
    run: (c) => runMemberOp(c, node, 'restart'),
  });
}

/** /cluster rejoin on Patroni: rebuild a member Patroni cannot rejoin itself (POST /reinitialize), after confirmation. */
export async function reinitializeMember(ctx: CommandContext, node: string): Promise<Reply> {
  const { member } = await findMember(ctx, node);
  if (isLeader(member)) throw new UserError(`${node} is the leader and cannot be rejoined`, 'switch the leader away first (/cluster switchover)', 'precondition');
  return askConfirmation(ctx, {
    command: 'rejoin',
    summary: `Reinitialize ${node} from the leader through Patroni`,
    confirmLabel: `Reinitialize ${node}`,
    level: 'operator',
    text: `Patroni deletes ${node}'s data directory and clones it again from the leader (state now: ${member.role}, ${member.state || 'unknown'}).`,
    run: (c) => runMemberOp(c, node, 'reinitialize'),
  });
}

export async function runMemberOp(ctx: CommandContext, name: string, op: MemberOp): Promise<Reply> {
  const { services } = ctx;
  if (services.patroni.memberOp) throw new UserError(`${String(services.patroni.memberOp)} is already in progress`, 'wait for it to finish', 'busy');
  services.patroni.memberOp = `${op} of ${name}`;
  try {
    return await memberOp(ctx, name, op);
  } finally {
    services.patroni.memberOp = null;
  }
}

async function memberOp(ctx: CommandContext, name: string, op: MemberOp): Promise<Reply> {
  const { services } = ctx;
  const { member } = await findMember(ctx, name);
  if (op === 'reinitialize' && isLeader(member)) {
    throw new UserError(`${name} is the leader and cannot be reinitialized`, 'switch the leader away first (/cluster switchover)', 'precondition');
  }
  const timeoutMs = services.config.PATRONI_ACTION_TIMEOUT_SECONDS * 1000;
  const started = performance.now();
  await ctx.progress({ title: `${op === 'restart' ? 'Restarting' : 'Reinitializing'} ${name} through Patroni`, severity: 'info', text: 'waiting for Patroni…' });
  const body = op === 'restart' ? {} : { force: false };
  const answer = await patroniClient(services).postMember(member, `/${op}`, body, timeoutMs);
  if (answer.status >= 400) {
    return { title: `${op} of ${name} refused by Patroni`, severity: 'crit', text: describeAnswer(answer), failed: true, data: { ok: false, status: answer.status } };
  }
  // Patroni answers a reinitialize at once and works in the background: watch for the result.
  const deadline = started + timeoutMs;
  let state = '';
  while (performance.now() < deadline) {
    const snap = await patroniSnapshot(services);
    const n = snap.nodes.find((x) => x.name === name);
    const m = snap.patroni.members.find((x) => x.name === member.name);
    state = `${n?.role ?? '?'}${n?.streaming ? ' streaming' : ''}, Patroni: ${m?.state ?? 'missing'}`;
    const ready = n?.up && m?.state === 'running' && (n.role === 'primary' || n.streaming);
    if (ready && performance.now() - started > 500) {
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      return {
        title: `${name} ${op === 'restart' ? 'restarted' : 'reinitialized'} by Patroni`,
        severity: 'ok',
        text: `${name} is ${n!.role === 'primary' ? 'the leader, accepting writes' : `a replica streaming from ${n!.upstream ?? 'the leader'}`} (${secs} s).`,
        fields: [{ label: 'Patroni said', value: describeAnswer(answer) }],
        data: { ok: true, node: name, op, seconds: Number(secs), role: n!.role },
      };
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    title: `${op} of ${name}: status unknown`,
    severity: 'warn',
    text: `Patroni accepted it (HTTP ${answer.status}) but after ${timeoutMs / 1000} s ${name} is ${state}; it may still be in progress — see /cluster status`,
    failed: true,
    data: { ok: false, node: name, op, state },
  };
}
