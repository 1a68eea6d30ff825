// The native backend: clusterbot runs the nodes itself over a runtime (local processes or Docker
// containers) and promotes with pg_promote. It wraps the procedures of src/cluster/; it adds no rules
// to the monitor (the native rules are written for it).
import type { Reply } from '../chat/reply.js';
import type { NodeConfig } from '../config.js';
import type { CommandContext } from '../core/command.js';
import type { Services } from '../core/context.js';
import { inspectCluster, type ClusterSnapshot } from '../cluster/inspect.js';
import { runFollow, runRejoin } from '../cluster/failover/rejoin.js';
import { nodeLifecycle } from '../cluster/node-lifecycle.js';
import { runNodeOp } from '../cluster/node-ops.js';
import { nodeData, resetCluster, type ResetBackupHooks, type ResetRequest } from '../cluster/reset.js';
import type { SyncMode } from '../cluster/sync/state.js';
import { runWithProgress } from '../present/failover-card.js';
import { nodeOpReply } from '../present/node-op-card.js';
import { statusCard } from '../present/status-card.js';
import type { ClusterBackend, StatusExtra } from './backend.js';
import { alertMaintenance, clusterDownCard, clusterUpCard, failoverCard, switchoverCard, syncCard } from './native-ops.js';

export class NativeBackend implements ClusterBackend<CommandContext> {
  readonly name = 'native' as const;
  readonly label = 'the native backend';
  readonly monitoring = null;

  constructor(private readonly s: Services) {}

  get nodes(): readonly NodeConfig[] {
    return this.s.config.nodes;
  }

  node(name: string): NodeConfig {
    return this.s.node(name);
  }

  snapshot(): Promise<ClusterSnapshot> {
    const { config, pools, runtime, masker } = this.s;
    return inspectCluster({ config, pools, runtime, isFenced: (n) => runtime.isFenced(n), mask: (t) => masker.mask(t) });
  }

  async statusCard(snap: ClusterSnapshot, extras: StatusExtra[]): Promise<Reply> {
    return statusCard(snap, extras);
  }

  failover = failoverCard;
  switchover = switchoverCard;
  sync = (ctx: CommandContext, mode: SyncMode) => syncCard(ctx, mode);
  up = clusterUpCard;
  down = clusterDownCard;
  maintenance = alertMaintenance;

  rejoin(ctx: CommandContext, node: string): Promise<Reply> {
    return runWithProgress(ctx, `Rejoin ${node}`, (hooks) => runRejoin(ctx.services, node, hooks));
  }

  follow(ctx: CommandContext, node: string): Promise<Reply> {
    return runWithProgress(ctx, `Follow ${node}`, (hooks) => runFollow(ctx.services, node, hooks));
  }

  async start(ctx: CommandContext, node: string): Promise<Reply> {
    const n = this.node(node);
    if (await this.s.runtime.isRunning(n)) {
      return { title: `start ${node}: nothing to do`, severity: 'info', text: `${node} is already running.`, data: { node, op: 'start', ok: true, alreadyRunning: true } };
    }
    return nodeOpReply(node, 'start', await runNodeOp(ctx.services, n, 'start'));
  }

  stop(ctx: CommandContext, node: string): Promise<Reply> {
    return nodeLifecycle(ctx, node, 'stop');
  }

  restart(ctx: CommandContext, node: string): Promise<Reply> {
    return nodeLifecycle(ctx, node, 'restart');
  }

  async logs(node: string, lines: number): Promise<{ text: string; source: string }> {
    return { text: await this.s.runtime.logs(this.node(node), lines), source: `${this.s.runtime.kind} runtime` };
  }

  resetNodes() {
    return nodeData(this.s);
  }

  resetCluster<K>(req: ResetRequest, hooks: ResetBackupHooks<K>) {
    return resetCluster(this.s, req, hooks);
  }
}
