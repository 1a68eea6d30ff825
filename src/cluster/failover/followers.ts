// After a promotion: re-point every other replica at the new primary, then wait for each to follow
// it (FOLLOW_TIMEOUT_SECONDS, counted from its own re-point). Each replica gets its own step, so the
// card and reply.data.steps say "readonly streaming after N ms" — or why it is not, and what to do.
import type { NodeConfig } from '../../config.js';
import type { Services } from '../../core/context.js';
import { FollowWatch } from './follow-wait.js';
import type { TimelineSwitch } from './promote.js';
import { repointReplica } from './repoint.js';
import type { Steps } from './steps.js';

export async function repointFollowers(
  s: Services,
  steps: Steps,
  warnings: string[],
  names: string[],
  primary: NodeConfig,
  sw: TimelineSwitch,
  progress: (line: string) => Promise<void>,
): Promise<void> {
  const watch = new FollowWatch(s, primary);
  for (const name of names) {
    const r = await steps.run(`re-point ${name}`, () => repointReplica(s, s.node(name), primary, sw, progress), (x) => x.line, (x) => x.ok);
    if (r.ok) watch.add(s.node(name));
    else warnings.push(r.line);
  }
  for (const name of names.filter((n) => watch.has(n))) {
    const f = await steps.run(`${name} streaming`, () => watch.result(name), (x) => x.line, (x) => x.ok);
    if (!f.ok) warnings.push(f.line);
  }
}
