// The cluster CA and the server certificates, issued by postgres/tls.sh (the openssl CLI): the same
// script the node image's entrypoint and the Patroni harness use. Keys are 0600; a server key belongs
// to the account the server runs as (PostgreSQL, PgBouncer refuse a key others can read).
import { isIP } from 'node:net';
import type { Config } from '../config.js';
import { UserError } from '../errors.js';
import { postgresAsset } from '../paths.js';
import { runProgram, type OsUser } from './process.js';

async function tls(args: string[]): Promise<string> {
  let r;
  try {
    r = await runProgram('sh', [postgresAsset('tls.sh'), ...args], { timeoutMs: 30_000 });
  } catch (e) {
    throw new UserError(`cannot run openssl: ${(e as Error).message}`, 'install it (Debian/Ubuntu: sudo apt-get install -y openssl)', 'prerequisite');
  }
  if (r.code !== 0) {
    const detail = (r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ');
    if (/openssl: (not found|command not found)/.test(detail)) {
      throw new UserError('openssl is not installed, so no certificate can be issued', 'install it (Debian/Ubuntu: sudo apt-get install -y openssl, or bash scripts/setup.sh as root)', 'prerequisite');
    }
    throw new Error(`issuing a certificate failed (tls.sh ${args[0]}, exit ${r.code}): ${detail}`);
  }
  return r.stdout.trim();
}

/** The subjectAltName list for these names and addresses ("DNS:localhost,IP:127.0.0.1"). */
export function subjectAltNames(hosts: string[]): string {
  return [...new Set(hosts.filter(Boolean))].map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
}

/** The CA in TLS_DIR, made once. */
export async function ensureCa(config: Config): Promise<void> {
  await tls(['ca', config.tlsDir]);
}

/** A new server certificate `<name>.crt`/`<name>.key` in TLS_DIR for these hosts, signed by the CA. */
export async function issueServerCertificate(config: Config, name: string, hosts: string[], owner: OsUser | null, days = config.TLS_CERT_DAYS): Promise<void> {
  await tls(['server', config.tlsDir, name, String(days), subjectAltNames(hosts), ...(owner ? [`${owner.uid}:${owner.gid}`] : [])]);
}

/** The serial of a certificate file, upper-case hex as node's tls reports it. */
export async function certificateSerial(file: string): Promise<string> {
  return (await tls(['serial', file])).toUpperCase();
}
