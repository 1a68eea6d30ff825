import { defineCommand } from '../src/core/command.js';
import { formatBytes, formatSeconds } from '../src/cluster/lsn.js';
import { nodeState, statusJson } from '../src/present/status-card.js';

export default defineCommand({
  name: 'nodes',
  summary: 'Per-node detail: role, process, LSNs, WAL receiver, archiver',
  level: 'viewer',
  mutates: false,
  args: {},
  async run(ctx) {
    const snap = await ctx.backend.snapshot();
    const rows = snap.nodes.map((n) => [
      n.name,
      `${n.host}:${n.port}`,
      n.role,
      nodeState(n),
      n.running === null ? '?' : n.running ? 'running' : 'stopped',
      n.failover ? 'yes' : 'never',
      n.timeline === null ? '–' : String(n.timeline),
      n.role === 'primary' ? (n.lsn ?? '–') : `${n.receiveLsn ?? '–'} / ${n.replayLsn ?? '–'}`,
      n.role === 'replica' ? `${formatBytes(n.lagBytes)} / ${formatSeconds(n.lagSeconds)}` : '–',
      n.upstream ?? (n.role === 'primary' ? n.replication.map((p) => `${p.applicationName}:${p.state}`).join(' ') || '–' : '–'),
    ]);
    return {
      title: `Nodes (${snap.nodes.filter((n) => n.up).length}/${snap.nodes.length} up)`,
      severity: snap.nodes.every((n) => n.up) ? 'ok' : 'warn',
      tables: [{ columns: ['node', 'address', 'role', 'state', 'process', 'failover', 'tl', 'lsn (recv / replay)', 'lag', 'upstream / peers'], rows }],
      context: `read in ${snap.durationMs} ms`,
      data: statusJson(snap),
    };
  },
});
