// Which node a replica is configured to follow (primary_conninfo), even when its primary is dead
// and pg_stat_wal_receiver is empty.
import type { Services } from '../../core/context.js';
import { resolveUpstream, type ClusterSnapshot } from '../inspect.js';

export function conninfoTarget(conninfo: string): { host: string | null; port: number | null } {
  const host = /(?:^|\s)host='?([^'\s]+)/.exec(conninfo)?.[1] ?? null;
  const port = /(?:^|\s)port='?(\d+)/.exec(conninfo)?.[1];
  return { host, port: port ? Number(port) : null };
}

/** Fill `upstream` from primary_conninfo for replicas that are not streaming. */
export async function withConfiguredUpstreams(s: Services, snap: ClusterSnapshot): Promise<ClusterSnapshot> {
  await Promise.all(
    snap.nodes
      .filter((n) => n.up && n.role === 'replica' && !n.upstream)
      .map(async (n) => {
        const r = await s.pools.query<{ c: string }>(s.node(n.name), 'SELECT current_setting($1) AS c', ['primary_conninfo']).catch(() => null);
        const t = conninfoTarget(r?.rows[0]?.c ?? '');
        if (t.port) n.upstream = resolveUpstream(s.config.nodes, { status: 'configured', sender_host: t.host, sender_port: t.port, received_tli: null });
      }),
  );
  return snap;
}
