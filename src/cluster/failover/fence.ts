// Fencing the old primary BEFORE a promotion, within a bound: ask it once whether it answers; one
// that does not is killed at once (every process of it), one that does gets a short clean stop and
// then the kill; the runtime proves nothing of it is left. Then mark it so it can only ever start
// read-only again (process restart, container restart policy) until it is rejoined.
import type { NodeConfig } from '../../config.js';
import type { Services } from '../../core/context.js';
import { askNode } from '../../db/answers.js';

export async function fenceNode(s: Services, node: NodeConfig, reason: string): Promise<string> {
  const { runtime, config } = s;
  let asked = `${node.name} was not running`;
  let answers = false;
  if (await runtime.isRunning(node)) {
    const a = await askNode(config, node, config.FENCE_PROBE_MS);
    answers = a.answers;
    const timedOut = a.detail === null || /no answer within|timeout/i.test(a.detail);
    asked = answers ? `${node.name} answered in ${a.ms} ms` : `${node.name} did not answer in ${a.ms} ms${timedOut ? '' : ` (${a.detail})`}`;
  }
  const stopped = await runtime.forceStop(node, { answers });
  const how = [asked, ...stopped.steps.map((x) => `${x.how} (${x.ms} ms)`)].join(' → ');
  await s.pools.reset(node);
  // The runtime may say how it fenced (e.g. Docker: fence directory, or the data volume fallback).
  const by = await runtime.fence(node, reason);
  if (!(await runtime.isFenced(node))) throw new Error(`${node.name} could not be fenced — not promoting`);
  return `${how}, ${stopped.proof}, fenced${by ? ` by ${by}` : ''} (can only start read-only until /cluster rejoin ${node.name})`;
}
