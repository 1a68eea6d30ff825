// The shapes every command and adapter share: who asks, from where, and the services they reach.
import type { Config, NodeConfig } from '../config.js';
import type { Reply } from '../chat/reply.js';
import type { ClusterSnapshot } from '../cluster/inspect.js';
import type { NodePools } from '../db/pools.js';
import type { PatroniClient } from '../patroni/client.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Audit } from './audit.js';
import type { Logger } from './logger.js';
import type { SecretMasker } from './secrets.js';

export type Level = 'viewer' | 'operator' | 'admin';

export type Platform = 'shell' | 'cli' | 'slack' | 'discord' | 'system';

export interface Principal {
  /** Stable id: a terminal user name, `slack:U123`, `discord:123456`. */
  id: string;
  display: string;
  platform: Platform;
  /** Group memberships that may carry a level: `discord-role:…`, `slack-group:…`. */
  groups?: string[];
}

export interface Surface {
  platform: Platform;
  channel: string;
  /** Edit the message that carries this command's reply, in place (long work, progress). */
  progress?: (reply: Reply) => Promise<void>;
}

/** A line contributed to `/cluster status` by a module (backups, monitor…). */
export type StatusContributor = (snap: ClusterSnapshot) => Promise<{ label: string; value: string; data?: Record<string, unknown> } | null>;

/** What other modules may ask of the backup module (issue: backups). */
export interface BackupsView {
  /** The newest successful backup, or null. */
  last(): Promise<{ id: string; kind: string; at: string; sizeBytes: number; durationMs: number; verified: boolean | null } | null>;
  /** A sentence when a scheduled backup is overdue, else null. */
  overdue(): Promise<string | null>;
}

/** The Patroni backend's state, built empty by src/app.ts (CLUSTER_BACKEND=patroni). */
export interface PatroniState {
  /** The one Patroni REST client, made on first use. */
  client: PatroniClient | null;
  /** The leader change (failover, switchover) or member operation in flight: one at a time. */
  leaderChange: string | null;
  memberOp: string | null;
}

/** What every part of the bot may use: configuration, logging, where the nodes run, their pools, the audit. */
export interface Services {
  config: Config;
  log: Logger;
  masker: SecretMasker;
  runtime: Runtime;
  pools: NodePools;
  audit: Audit;
  snapshot(): Promise<ClusterSnapshot>;
  /** Is this node fenced (kept read-only until /cluster rejoin)? The runtime knows. */
  isFenced?: (node: NodeConfig) => Promise<boolean>;
  node(name: string): NodeConfig;
  statusContributors: StatusContributor[];
  /** The backup module as the monitor sees it (src/app.ts builds it; absent in bare test services). */
  backups?: BackupsView;
  patroni: PatroniState;
}
