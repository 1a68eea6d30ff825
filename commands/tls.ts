import { arg, defineCommand } from '../src/core/command.js';
import { rotateCertificates } from '../src/cluster/tls-rotate.js';
import { busyReason } from '../src/cluster/failover/lock.js';
import { refusal } from '../src/cluster/failover/operation.js';

export default defineCommand({
  name: 'tls',
  summary: 'TLS certificates: rotate issues every node (and the local write endpoint) a new one from the cluster CA and reloads it, without downtime',
  help: 'rotate: each node in turn gets a new server certificate from the cluster CA (TLS_DIR, valid TLS_CERT_DAYS) and reloads its configuration (pg_reload_conf): open sessions continue, new connections get the new certificate. The reply shows each node\'s old and new serial as a new connection saw them. /cluster status shows when each certificate expires.',
  level: 'admin',
  mutates: true,
  slow: true,
  args: { action: arg.choice('rotate', ['rotate'] as const) },
  examples: ['/cluster tls rotate'],
  async run(ctx) {
    const s = ctx.services;
    const busy = busyReason(s.config.home);
    if (busy) throw refusal(busy);
    const lines: string[] = [];
    const rotated = await rotateCertificates(s, (line) => {
      lines.push(line);
      void ctx.progress({ title: 'Rotating TLS certificates…', severity: 'info', text: lines.join('\n') });
    });
    const failed = rotated.filter((r) => r.error);
    s.audit.record({ kind: 'event', user: ctx.user.id, platform: ctx.user.platform, command: 'tls', outcome: failed.length ? 'failed' : 'done', detail: { rotated } });
    return {
      title: failed.length ? `TLS rotation: ${failed.length} of ${rotated.length} node(s) FAILED` : `TLS certificates rotated on ${rotated.length} node(s)`,
      severity: failed.length ? 'crit' : 'ok',
      text: failed.length ? 'Nodes not listed as rotated keep serving their old certificate; fix the cause and run /cluster tls rotate again.' : 'Every node now presents a new certificate to new connections; open sessions were not interrupted.',
      tables: [
        {
          columns: ['node', 'old serial', 'new serial', 'expires', 'result'],
          rows: rotated.map((r) => [r.node, short(r.before), short(r.after), r.notAfter?.slice(0, 10) ?? '–', r.error ?? `ok (${r.ms} ms)`]),
        },
      ],
      data: { rotated },
    };
  },
});

const short = (serial: string | null) => (serial ? `${serial.slice(0, 12)}…` : '–');
