// Cards for failover, switchover, rejoin and follow: the confirmation fields, the card edited in
// place while steps run, and the final report (who confirmed, step timings, topology, endpoint).
import type { Field, Reply } from '../chat/reply.js';
import type { FailoverPlan } from '../cluster/failover/preflight.js';
import type { OperationRequest, OperationResult } from '../cluster/failover/operation.js';
import { outcomeOf } from '../cluster/failover/outcome.js';
import type { StepRecord } from '../cluster/failover/steps.js';
import type { SwitchoverPlan } from '../cluster/failover/switchover.js';
import { formatBytes, lsnDiff } from '../cluster/lsn.js';
import type { SyncVerdict } from '../cluster/sync/verdict.js';
import type { CommandContext } from '../core/command.js';
import { nodeState, statusJson, writeEndpoint } from './status-card.js';

export const bytes = (n: number) => (n < 1024 ? `${n} bytes` : `${formatBytes(n)} (${n} bytes)`);

/** The data-at-risk field: "0 bytes at risk — synchronous" only when the synchronous guarantee held. */
function riskValue(plan: FailoverPlan & { sync?: SyncVerdict }): string {
  if (plan.sync?.zeroLoss) return '0 bytes at risk — synchronous';
  return `${plan.riskIsFloor ? 'at least ' : ''}${bytes(plan.riskBytes)}${plan.riskIsFloor ? ' (plus whatever the dead primary never sent)' : ''}`;
}

/** The confirmation card. `force` promotes as the target is, without catching up from a node ahead of it. */
export function failoverConfirmFields(plan: FailoverPlan & { sync?: SyncVerdict }, target: { host: string; port: number }, force = false): { text: string; fields: Field[] } {
  const cu = plan.catchup;
  const lost = (plan.riskIsFloor ? (plan.riskBytes ? `at least ${bytes(plan.riskBytes)}` : '0 bytes') : bytes(plan.riskBytes)) + ' lost';
  const catchup = cu
    ? [
        `${plan.target} will first catch up ${formatBytes(cu.bytes)} from ${cu.from}, then be promoted: ${lost} among the nodes that are still up.`,
        `(It streams ${cu.fromLsn} → ${cu.toLsn} from ${cu.from} for at most FAILOVER_CATCHUP_SECONDS; if that does not finish, nothing is promoted and you are asked again. To promote without catching up, losing that WAL: /cluster failover ${plan.target} force.)`,
      ]
    : [];
  // A node ahead that the catch-up covers loses nothing; any other is named with its LSN range.
  const warnings = plan.ahead
    .filter((a) => !cu || (lsnDiff(a.lsn, cu.toLsn) ?? 1) > 0)
    .map(
      (a) =>
        `⚠ ${a.name}${a.failover ? '' : ' (no-failover node)'} has received ${bytes(a.bytes)} more WAL than ${plan.target}: that WAL is lost with this failover${force ? ' (`force`: no catch-up)' : ''} — LSN ${plan.targetLsn ?? '?'} – ${a.lsn ?? '?'} is at risk, and ${a.name} will be rewound onto the new timeline.`,
    );
  const text = [`Promote ${plan.target} to primary. ${plan.fence.length ? `${plan.fence.join(', ')} will be fenced first, so there are never two writable nodes.` : ''}`.trim(), ...(plan.sync?.line ? [plan.sync.line] : []), ...catchup, ...warnings].join('\n');
  const fields: Field[] = [
    { label: 'Target', value: `${plan.target} (${target.host}:${target.port}, timeline ${plan.targetTimeline ?? '?'})`, short: true },
    { label: 'Target lag', value: bytes(plan.lagBytes), short: true },
    { label: 'Data at risk', value: riskValue(plan), short: true },
    ...(cu ? [{ label: 'Catch up first', value: `${bytes(cu.bytes)} from ${cu.from} (${cu.fromLsn} → ${cu.toLsn})`, short: true }] : []),
    { label: 'Current primary', value: plan.primaryState },
    { label: 'Will be fenced', value: plan.fence.length ? plan.fence.map((f) => `${f} (stopped if running, then kept read-only until /cluster rejoin ${f})`).join('; ') : 'nothing (no old primary known)' },
    { label: 'Re-pointed afterwards', value: plan.followers.join(', ') || 'none', short: true },
  ];
  return { text, fields };
}

export function switchoverConfirmFields(plan: SwitchoverPlan): { text: string; fields: Field[] } {
  return {
    text: `Planned, lossless switchover: ${plan.from} shuts down cleanly, ${plan.to} is promoted only after it has replayed ${plan.from}'s shutdown checkpoint, then ${plan.from} restarts as a replica of ${plan.to}. Writes pause for a few seconds.`,
    fields: [
      { label: 'From', value: plan.from, short: true },
      { label: 'To', value: plan.to, short: true },
      { label: 'Target lag', value: bytes(plan.lagBytes), short: true },
      { label: 'Re-pointed afterwards', value: plan.followers.join(', ') || 'none', short: true },
    ],
  };
}

function lastLine(steps: StepRecord[]): string {
  const l = steps.at(-1);
  return l ? `${l.ok ? '✓' : '✗'} ${l.step} (${l.ms} ms): ${l.detail}` : '';
}

function stepRows(steps: StepRecord[], running: string | null): string[][] {
  const rows = steps.map((s) => [s.ok ? '✓' : '✗', s.step, `${s.ms} ms`, s.detail]);
  if (running) rows.push(['…', running, '', 'running']);
  return rows;
}

/** Run an operation from a command or a confirmation, editing the card as its steps run. */
export async function runWithProgress(
  ctx: CommandContext,
  label: string,
  run: (hooks: OperationRequest) => Promise<OperationResult>,
): Promise<Reply> {
  const notes: string[] = [];
  const confirmedBy = ctx.user.display;
  let running: string | null = null;
  let progress: string | null = null;
  const show = (steps: StepRecord[]) =>
    ctx.progress({
      title: `${label}: in progress`,
      severity: 'warn',
      // The last line says what is happening now (the CLI shows only that line).
      text: [`Started by ${confirmedBy}.`, ...notes, running ? `▶ ${running}…${progress ? ` ${progress}` : ''}` : lastLine(steps)].join('\n'),
      tables: [{ columns: ['', 'step', 'took', 'result'], rows: stepRows(steps, running) }],
    });
  let last: StepRecord[] = [];
  const result = await run({
    by: confirmedBy,
    user: { id: ctx.user.id, platform: ctx.user.platform },
    onStep: async (steps, now) => {
      last = steps;
      running = now;
      progress = null;
      await show(steps);
    },
    onNote: async (line) => {
      notes.push(line);
      await show(last);
    },
    onProgress: async (line) => {
      progress = line;
      await show(last);
    },
  });
  return operationReply(label, result, confirmedBy, notes);
}

export function operationReply(label: string, r: OperationResult, by: string, notes: string[] = []): Reply {
  const endpoint = writeEndpoint(r.snapshot);
  const split = r.snapshot.writable.length > 1;
  const headline = split
    ? `SPLIT BRAIN: ${r.snapshot.writable.join(' and ')} accept writes`
    : r.ok
    ? r.op === 'failover' || r.op === 'switchover'
      ? `${r.newPrimary} is the primary`
      : `${r.node} follows ${r.newPrimary}`
    : `failed${r.error ? `: ${r.error}` : ''}`;
  const topology = r.snapshot.nodes.map((n) => [n.name, n.role, nodeState(n), n.timeline === null ? '–' : String(n.timeline), n.upstream ?? '–']);
  return {
    title: `${label} ${r.ok ? outcomeOf(r) : 'FAILED'} — ${headline}`,
    severity: !r.ok || split ? 'crit' : r.warnings.length ? 'warn' : 'ok',
    text: [
      // The primary's own address; the write endpoint (PgBouncer), when there is one, has its own step.
      `Confirmed by ${by}. ${endpoint ? `Primary now: ${r.snapshot.primary} at ${endpoint}.` : 'No writable primary now — see /cluster status.'}`,
      ...notes,
      ...r.warnings.map((w) => `⚠ ${w}`),
      ...r.snapshot.nodes.filter((n) => n.fenced).map((n) => `${n.name} is fenced: it can only start read-only — /cluster rejoin ${n.name} makes it a replica of ${r.snapshot.primary ?? 'the new primary'}.`),
    ].join('\n'),
    tables: [
      { title: 'Steps', columns: ['', 'step', 'took', 'result'], rows: stepRows(r.steps, null) },
      { title: 'Topology', columns: ['node', 'role', 'state', 'tl', 'upstream'], rows: topology },
    ],
    context: `${r.op} took ${(r.totalMs / 1000).toFixed(1)} s`,
    data: {
      op: r.op,
      ok: r.ok,
      outcome: outcomeOf(r),
      confirmedBy: by,
      node: r.node,
      newPrimary: r.newPrimary,
      writeEndpoint: endpoint,
      steps: r.steps,
      totalMs: r.totalMs,
      warnings: r.warnings,
      error: r.error,
      topology: statusJson(r.snapshot),
    },
    failed: !r.ok,
  };
}
