// The write endpoint with the Patroni backend: the same PgBouncer as native
// (src/cluster/write-endpoint/), kept on Patroni's leader by the bot. clusterbot start points it at the
// leader; the bot's own switchover and failover PAUSE it before asking Patroni and repoint + RESUME it
// once the candidate took a write; any other leader change (Patroni's own failover) is followed by the
// watcher as soon as the new leader answers. Why not HAProxy + Patroni's REST check: docs/architecture.md.
import type { NodeConfig } from '../config.js';
import type { Services } from '../core/context.js';
import { driverFor } from '../cluster/write-endpoint/driver.js';
import { endpointEnabled, ensureWriteEndpoint, pauseEndpoint, repointEndpoint, resumeEndpoint, type EndpointResult } from '../cluster/write-endpoint/index.js';
import { errorLine } from '../errors.js';

/** Our PgBouncer is enabled and running: only then is there an endpoint to hold or repoint. */
async function running(s: Services): Promise<boolean> {
  if (!endpointEnabled(s)) return false;
  return (await driverFor(s)).running().catch(() => false);
}

/** clusterbot start: point PgBouncer at the current leader and start it (or reload it). Null when WRITE_ENDPOINT=false. */
export async function startPatroniEndpoint(s: Services): Promise<string | null> {
  if (!endpointEnabled(s)) return null;
  const snap = await s.snapshot().catch(() => null);
  if (!snap?.primary) return `Write endpoint NOT started: no writable Patroni leader${snap ? '' : ' (Patroni cannot be read)'}; restart clusterbot once the cluster has one`;
  const leader = s.config.nodes.find((n) => n.name === snap.primary);
  if (!leader) return `Write endpoint NOT started: the leader ${snap.primary} is not in CLUSTER_NODES, so the bot has no address for it`;
  return (await ensureWriteEndpoint(s, leader)).line;
}

/** Before asking Patroni to move the leader: hold new queries once running transactions end. Null: no endpoint running. */
export async function holdEndpoint(s: Services): Promise<EndpointResult | null> {
  return (await running(s)) ? pauseEndpoint(s) : null;
}

/** The change did not happen (or was not observed): never leave clients held. */
export async function releaseEndpoint(s: Services): Promise<void> {
  if (await running(s)) await resumeEndpoint(s);
}

/** After `leader` accepted a write: point PgBouncer at it and RESUME. Null: no endpoint running. */
export async function endpointToLeader(s: Services, leader: NodeConfig): Promise<EndpointResult | null> {
  return (await running(s)) ? repointEndpoint(s, leader, { resume: true }) : null;
}

/**
 * The watcher's look: the endpoint names another node than the leader that answers (a failover by
 * Patroni itself, a switchover through patronictl, a change while the bot was down) → repoint it.
 * Null when there is nothing to do.
 */
export async function followLeader(s: Services, leader: NodeConfig): Promise<EndpointResult | null> {
  if (!(await running(s))) return null;
  const target = await (await driverFor(s)).target().catch((e: unknown) => `(unreadable: ${errorLine(e)})`);
  if (target === leader.name) return null;
  // RESUME too: a bot that stopped between PAUSE and RESUME must not leave clients held for good.
  return repointEndpoint(s, leader, { resume: true });
}
