// Fencing the old primary BEFORE a promotion: stop it when it runs, then mark it so it can only
// ever start read-only again (process restart, container restart policy) until it is rejoined.
import type { NodeConfig } from '../../config.js';
import type { Services } from '../../core/context.js';

export async function fenceNode(s: Services, node: NodeConfig, reason: string): Promise<string> {
  const { runtime } = s;
  let how = 'was not running';
  if (await runtime.isRunning(node)) {
    how = 'stopped (fast)';
    await runtime.stop(node, 'fast').catch(async (err: unknown) => {
      s.log.warn({ node: node.name, err: (err as Error).message }, 'fast stop failed; stopping immediately');
      how = 'stopped (immediate)';
      await runtime.stop(node, 'immediate').catch(() => runtime.kill(node));
    });
    if (await runtime.isRunning(node)) {
      await runtime.kill(node);
      how = 'killed';
    }
    if (await runtime.isRunning(node)) throw new Error(`${node.name} is still running after stop and kill — not promoting (two writable primaries otherwise)`);
  }
  await s.pools.reset(node);
  // The runtime may say how it fenced (e.g. Docker: fence directory, or the data volume fallback).
  const by = await runtime.fence(node, reason);
  if (!(await runtime.isFenced(node))) throw new Error(`${node.name} could not be fenced — not promoting`);
  return `${node.name} ${how}, fenced${by ? ` by ${by}` : ''} (can only start read-only until /cluster rejoin ${node.name})`;
}
