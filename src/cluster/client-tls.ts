// What a client outside the bot needs to trust the cluster's servers (docs/tls.md): every node admits
// TLS only, and verify-full against the cluster CA is what proves a server is ours.
import type { Config } from '../config.js';
import { caFile, verifyFullConninfo } from '../db/tls.js';

export interface ClientTls {
  /** For a libpq key/value string (psql "host=… …"). */
  conninfo: string;
  /** For the query part of a postgresql:// URI. */
  uriParams: string;
}

export function clientTls(config: Config): ClientTls {
  const ca = caFile(config);
  return { conninfo: verifyFullConninfo(ca), uriParams: `sslmode=verify-full&sslrootcert=${encodeURI(ca)}` };
}
