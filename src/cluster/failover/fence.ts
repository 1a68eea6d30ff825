// Fencing the old primary BEFORE a promotion, within a bound. Ask it once whether it answers (no
// need when the runtime sees it frozen: a stopped postmaster, a paused container); one that does not
// is killed at once (every process of it), one that does gets a short clean stop, then the kill; the
// runtime proves nothing of it is left. Then mark it so it can only ever start read-only again
// (process restart, container restart policy) until it is rejoined.
import type { NodeConfig } from '../../config.js';
import type { Services } from '../../core/context.js';
import { askNode } from '../../db/answers.js';

/** Does the node answer? With the line the card shows. */
async function answering(s: Services, node: NodeConfig): Promise<{ answers: boolean; line: string }> {
  // Both from the runtime's own view (no probe of the node yet), asked at once.
  const [running, frozen] = await Promise.all([s.runtime.isRunning(node), s.runtime.frozen(node)]);
  if (!running) return { answers: false, line: `${node.name} was not running` };
  if (frozen) return { answers: false, line: `${node.name} is frozen (${frozen})` };
  const a = await askNode(s.config, node, s.config.FENCE_PROBE_MS);
  if (a.answers) return { answers: true, line: `${node.name} answered in ${a.ms} ms` };
  const why = a.detail === null || /no answer within|timeout/i.test(a.detail) ? '' : ` (${a.detail})`;
  return { answers: false, line: `${node.name} did not answer in ${a.ms} ms${why}` };
}

export async function fenceNode(s: Services, node: NodeConfig, reason: string): Promise<string> {
  const { runtime } = s;
  const asked = await answering(s, node);
  const stopped = await runtime.forceStop(node, { answers: asked.answers });
  const how = [asked.line, ...stopped.steps.map((x) => `${x.how} (${x.ms} ms)`)].join(' → ');
  await s.pools.reset(node);
  // The runtime may say how it fenced (e.g. Docker: fence directory, or the data volume fallback).
  const by = await runtime.fence(node, reason);
  if (!(await runtime.isFenced(node))) throw new Error(`${node.name} could not be fenced — not promoting`);
  return `${how}, ${stopped.proof}, fenced${by ? ` by ${by}` : ''} (can only start read-only until /cluster rejoin ${node.name})`;
}
