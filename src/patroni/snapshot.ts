// The cluster as Patroni sees it (/cluster), cross-checked with SQL where the bot can connect,
// mapped onto the same ClusterSnapshot every command and renderer already understands.
import type { NodeConfig } from '../config.js';
import type { Services } from '../core/context.js';
import { inspectCluster, type ClusterSnapshot, type NodeStatus } from '../cluster/inspect.js';
import type { Runtime } from '../runtime/runtime.js';
import { isLeader, PatroniClient, type PatroniCluster, type PatroniMember } from './client.js';

export interface PatroniMemberView {
  name: string;
  /** The CLUSTER_NODES entry this member is, or null when it is not configured. */
  node: string | null;
  role: string;
  state: string;
  timeline: number | null;
  lagBytes: number | null;
  nofailover: boolean;
  apiUrl: string | null;
  pendingRestart: boolean;
}

export interface PatroniView {
  /** The REST endpoint that answered, or null when none did. */
  via: string | null;
  error: string | null;
  paused: boolean;
  leader: string | null;
  members: PatroniMemberView[];
  /** Where Patroni and PostgreSQL disagree (e.g. Patroni's leader is still in recovery). */
  disagreements: string[];
  raw: PatroniCluster | null;
}

export interface PatroniSnapshot extends ClusterSnapshot {
  patroni: PatroniView;
}

/** The one Patroni client of this app (created on first use). */
export function patroniClient(services: Services): PatroniClient {
  services.patroni.client ??= PatroniClient.fromConfig(services.config);
  return services.patroni.client;
}

export function memberFor(node: NodeConfig, members: PatroniMember[]): PatroniMember | undefined {
  return members.find((m) => m.name === node.name) ?? members.find((m) => m.host === node.host && m.port === node.port);
}

export function nodeFor(member: PatroniMember, nodes: NodeConfig[]): NodeConfig | undefined {
  return nodes.find((n) => n.name === member.name) ?? nodes.find((n) => n.host === member.host && n.port === member.port);
}

const RUNNING = new Set(['running', 'streaming']);

export async function patroniSnapshot(services: Services): Promise<PatroniSnapshot> {
  const started = performance.now();
  const client = patroniClient(services);
  const fetched = client.cluster().then(
    (r) => ({ cluster: r.cluster, via: r.via, error: null }),
    (e: unknown) => ({ cluster: null, via: null, error: (e as Error).message }),
  );
  // inspectCluster asks the runtime only whether a node's process runs; here Patroni answers that.
  const processView = {
    isRunning: async (node: NodeConfig) => {
      const m = memberFor(node, (await fetched).cluster?.members ?? []);
      return m ? RUNNING.has(m.state) : false;
    },
  } as unknown as Runtime;
  const [{ cluster, via, error }, sql] = await Promise.all([fetched, inspectCluster({ config: services.config, pools: services.pools, runtime: processView })]);
  const members = cluster?.members ?? [];
  const disagreements: string[] = [];
  for (const status of sql.nodes) {
    const node = services.node(status.name);
    const m = memberFor(node, members);
    if (!m) {
      if (cluster) status.error = status.up ? 'not a Patroni member' : `${status.error ?? 'down'}; not a Patroni member`;
      continue;
    }
    // /cluster can be stale (a dead member's key lives until its TTL): ask the member itself.
    if (!status.up && RUNNING.has(m.state) && (await memberAnswers(client, m))) fillFromPatroni(status, m, members);
    else if (!status.up && RUNNING.has(m.state)) status.error = `${status.error ?? 'down'}; its Patroni does not answer either`;
    else if (status.up && isLeader(m) && status.role !== 'primary') disagreements.push(`Patroni's leader ${m.name} is still in recovery (promotion under way?)`);
    else if (status.up && !isLeader(m) && status.role === 'primary') disagreements.push(`${m.name} accepts writes but Patroni calls it ${m.role}`);
    if (status.up && !RUNNING.has(m.state)) disagreements.push(`${m.name} answers SQL but Patroni reports it ${m.state}`);
    if (!status.up && !RUNNING.has(m.state)) status.error = `Patroni: ${m.state || 'no state'}${status.error && status.error !== 'stopped' ? ` (${status.error})` : ''}`;
  }
  const writable = sql.nodes.filter((n) => n.role === 'primary').map((n) => n.name);
  const leader = members.find(isLeader);
  return {
    ...sql,
    durationMs: Math.round(performance.now() - started),
    writable,
    primary: writable.length === 1 ? writable[0] : null,
    patroni: {
      via,
      error,
      paused: cluster?.pause === true,
      leader: leader?.name ?? null,
      members: members.map((m) => memberView(m, services.config.nodes)),
      disagreements,
      raw: cluster,
    },
  };
}

async function memberAnswers(client: PatroniClient, m: PatroniMember): Promise<boolean> {
  if (!m.api_url) return false;
  try {
    return RUNNING.has((await client.node(m.api_url)).state);
  } catch {
    return false;
  }
}

/** The bot cannot reach this node's PostgreSQL but Patroni can: show Patroni's word, and say so. */
function fillFromPatroni(status: NodeStatus, m: PatroniMember, members: PatroniMember[]): void {
  const sqlError = status.error;
  status.up = true;
  status.running = true;
  status.role = isLeader(m) ? 'primary' : 'replica';
  status.timeline = m.timeline ?? null;
  status.lagBytes = isLeader(m) ? 0 : typeof m.lag === 'number' ? m.lag : null;
  status.streaming = !isLeader(m) && RUNNING.has(m.state);
  status.upstream = isLeader(m) ? null : (members.find(isLeader)?.name ?? null);
  status.error = `from Patroni only (SQL: ${sqlError ?? 'unreachable'})`;
}

function memberView(m: PatroniMember, nodes: NodeConfig[]): PatroniMemberView {
  return {
    name: m.name,
    node: nodeFor(m, nodes)?.name ?? null,
    role: m.role,
    state: m.state,
    timeline: m.timeline ?? null,
    lagBytes: isLeader(m) ? 0 : typeof m.lag === 'number' ? m.lag : null,
    nofailover: m.tags?.nofailover === true,
    apiUrl: m.api_url ?? null,
    pendingRestart: m.pending_restart === true,
  };
}

export function isPatroniSnapshot(s: ClusterSnapshot): s is PatroniSnapshot {
  return 'patroni' in s;
}
