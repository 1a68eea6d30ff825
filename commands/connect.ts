import { defineCommand, arg } from '../src/core/command.js';
import { endpointActive, endpointAddress } from '../src/cluster/write-endpoint/index.js';
import { readEndpointActive, readEndpointAddress } from '../src/cluster/read-endpoint/index.js';
import { clientTls } from '../src/cluster/client-tls.js';

export default defineCommand({
  name: 'connect',
  summary: 'Connection strings (no password) for psql and for applications',
  level: 'viewer',
  mutates: false,
  args: { node: arg.node('the node to connect to') },
  async run(ctx, { node }) {
    const { config } = ctx.services;
    const n = ctx.backend.node(node);
    const user = config.POSTGRES_ADMIN_USER;
    const db = config.PG_DATABASE;
    const hosts = ctx.backend.nodes.map((x) => `${x.host}:${x.port}`).join(',');
    const { conninfo, uriParams: tls } = clientTls(config);
    const psql = `psql "host=${n.host} port=${n.port} dbname=${db} user=${user} ${conninfo}"`;
    const rw = `postgresql://${user}@${hosts}/${db}?target_session_attrs=read-write&${tls}`;
    const ro = `postgresql://${user}@${hosts}/${db}?target_session_attrs=prefer-standby&${tls}`;
    // One address that follows the primary (PgBouncer), for applications and poolers that take a single host.
    const endpoint = (await endpointActive(ctx.services)) ? `postgresql://${user}@${endpointAddress(ctx.services)}/${db}?${tls}` : null;
    const reads = (await readEndpointActive(ctx.services)) ? `postgresql://${user}@${readEndpointAddress(ctx.services)}/${db}?${tls}` : null;
    return {
      title: `Connect to ${node}`,
      severity: 'info',
      fields: [
        { label: `psql to ${node}`, value: psql },
        ...(endpoint ? [{ label: 'Write endpoint (one address, follows the primary; PgBouncer, transaction pooling)', value: endpoint }] : []),
        { label: 'Applications (always the writable primary)', value: rw },
        ...(reads ? [{ label: 'Read endpoint (one address, spread over the streaming replicas; HAProxy)', value: reads }] : []),
        { label: 'Read-only traffic (a replica when one is up)', value: ro },
      ],
      context: 'The password is not shown: psql asks for it, or put it in ~/.pgpass.',
      data: { node, psql, readWrite: rw, readOnly: ro, writeEndpoint: endpoint, readEndpoint: reads },
    };
  },
});
