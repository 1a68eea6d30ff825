// The one place that says how anything connects to a node: TLS, verified against the cluster CA
// (sslmode=verify-full). node-postgres checks the host name against the certificate itself: it sets
// SNI (servername) for a host name and leaves it out for an IP address, and Node's tls then checks the
// IP against the certificate's IP SANs. So a connection only needs `ca` and rejectUnauthorized.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import type { Config } from '../config.js';
import { UserError } from '../errors.js';

/** The cluster CA every client verifies the nodes with. */
export const caFile = (config: Pick<Config, 'tlsDir'>) => `${config.tlsDir}/ca.crt`;

/** node-postgres' `ssl` option: verify the server's chain against the cluster CA and its name against `host`. */
export function verifiedSsl(config: Pick<Config, 'tlsDir'>): ConnectionOptions {
  const file = caFile(config);
  let ca: string;
  try {
    ca = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`there is no cluster CA at ${file}, so no node can be verified`, 'run /cluster up (it creates the CA and the node certificates), or set TLS_DIR to the folder that holds ca.crt', 'prerequisite');
  }
  return { ca, rejectUnauthorized: true };
}

/** A client configuration for `host:port` as the admin role, over verified TLS. */
export function adminClientConfig(config: Config, target: { host: string; port: number }, extra: pg.ClientConfig = {}): pg.ClientConfig {
  return {
    host: target.host,
    port: target.port,
    user: config.POSTGRES_ADMIN_USER,
    password: config.POSTGRES_ADMIN_PASSWORD,
    database: config.PG_DATABASE,
    ssl: verifiedSsl(config),
    ...extra,
  };
}

/** The libpq keywords of a verified TLS connection (primary_conninfo, pg_basebackup -d, pg_rewind). */
export const verifyFullConninfo = (caPath: string) => `sslmode=verify-full sslrootcert=${caPath}`;

export interface PeerCertificate {
  serial: string;
  /** ISO time the certificate stops being valid. */
  notAfter: string;
}

/** The certificate the server presented on this connected client's socket, or null (not TLS). */
export function peerCertificate(client: pg.Client | pg.PoolClient): PeerCertificate | null {
  const stream = (client as unknown as { connection?: { stream?: { getPeerCertificate?: () => { serialNumber?: string; valid_to?: string } } } }).connection?.stream;
  const cert = stream?.getPeerCertificate?.();
  if (!cert?.serialNumber || !cert.valid_to) return null;
  return { serial: cert.serialNumber.toUpperCase(), notAfter: new Date(cert.valid_to).toISOString() };
}

/** The certificate `target` presents to a new connection now (a fresh client, not a pooled one). */
export async function presentedCertificate(config: Config, target: { host: string; port: number }, timeoutMs = 5000): Promise<PeerCertificate | null> {
  const client = new pg.Client(adminClientConfig(config, target, { connectionTimeoutMillis: timeoutMs, application_name: 'clusterbot-tls' }));
  client.on('error', () => undefined);
  try {
    await client.connect();
    return peerCertificate(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
