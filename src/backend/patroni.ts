// The Patroni backend: Patroni (with etcd) runs the nodes; clusterbot reads /cluster cross-checked
// with SQL, drives Patroni's REST API (switchover, failover, restart, reinitialize, pause,
// synchronous_mode) and observes each outcome. What Patroni owns itself answers with what to do instead.
import type { Reply } from '../chat/reply.js';
import type { NodeConfig } from '../config.js';
import type { CommandContext } from '../core/command.js';
import type { Services } from '../core/context.js';
import type { ClusterSnapshot } from '../cluster/inspect.js';
import type { SyncMode } from '../cluster/sync/state.js';
import { leaderChangeCard } from '../patroni/leader-card.js';
import { reinitializeMember, restartMember } from '../patroni/member-ops.js';
import { createPatroniMonitoring } from '../patroni/monitoring.js';
import { patroniStatusCard } from '../patroni/present.js';
import { patroniProtections } from '../patroni/protections.js';
import { pauseMaintenance, syncModeCard } from '../patroni/settings.js';
import { isPatroniSnapshot, patroniClient, patroniSnapshot } from '../patroni/snapshot.js';
import { notOnThisBackend, type ClusterBackend, type StatusExtra } from './backend.js';

/** What to do instead of the commands Patroni owns itself. */
export const PATRONI_INSTEAD = {
  start: 'Patroni starts PostgreSQL itself: start the patroni service on that host (systemctl start patroni), or /cluster restart <node>',
  stop: 'stop the patroni service on that host (systemctl stop patroni); to keep PostgreSQL up without Patroni acting, use /cluster maintenance on',
  up: 'Patroni bootstraps the cluster: start patroni on each host (docker-compose.patroni.yml shows how)',
  down: 'stop the patroni service on every host, or use patronictl pause (/cluster maintenance on)',
  reset: "use Patroni's own tools: stop patroni on every member, patronictl remove <cluster>, delete each member's data directory, then start patroni again",
  follow: 'Patroni re-points replicas at the leader on its own; a replica that cannot follow needs /cluster rejoin <node>',
  logs: "read Patroni's and PostgreSQL's logs on that host (journalctl -u patroni), or patronictl list for states",
} as const;

export class PatroniBackend implements ClusterBackend<CommandContext> {
  readonly name = 'patroni' as const;
  readonly label = 'the Patroni backend';
  readonly monitoring = createPatroniMonitoring();

  constructor(private readonly s: Services) {
    patroniClient(s); // fails fast without PATRONI_URLS
  }

  get nodes(): readonly NodeConfig[] {
    return this.s.config.nodes;
  }

  node(name: string): NodeConfig {
    return this.s.node(name);
  }

  snapshot(): Promise<ClusterSnapshot> {
    return patroniSnapshot(this.s);
  }

  async statusCard(snap: ClusterSnapshot, extras: StatusExtra[]): Promise<Reply> {
    if (!isPatroniSnapshot(snap)) throw new Error('the Patroni backend renders only its own snapshot');
    const protections = await patroniProtections(this.s, snap.patroni.raw?.members ?? []).catch(() => null);
    return patroniStatusCard(snap, extras, protections);
  }

  failover(ctx: CommandContext, target: string | undefined, force: boolean): Promise<Reply> {
    return leaderChangeCard(ctx, 'failover', target, force);
  }

  switchover(ctx: CommandContext, target: string | undefined): Promise<Reply> {
    return leaderChangeCard(ctx, 'switchover', target, false);
  }

  rejoin = reinitializeMember;
  restart = restartMember;
  maintenance = pauseMaintenance;
  sync = (ctx: CommandContext, mode: SyncMode) => syncModeCard(ctx, mode);

  start = () => this.lacks('start');
  stop = () => this.lacks('stop');
  up = () => this.lacks('up');
  down = () => this.lacks('down');
  follow = () => this.lacks('follow');
  logs = () => this.lacks('logs');
  resetNodes = () => this.lacks('reset');
  resetCluster = () => this.lacks('reset');

  private lacks(command: keyof typeof PATRONI_INSTEAD): Promise<never> {
    return Promise.reject(notOnThisBackend(command, this.label, PATRONI_INSTEAD[command]));
  }
}
