// One bounded question to a node: does it answer at all (connect + SELECT 1 within a deadline)?
// Fencing asks it once to choose between a clean stop and an immediate kill. Its own client, not
// the node's pool: a pooled connection may be stuck on the very node that hangs.
import pg from 'pg';
import type { Config, NodeConfig } from '../config.js';
import { adminClientConfig } from './tls.js';

export interface Answer {
  answers: boolean;
  ms: number;
  /** Why it did not answer, or the server's error when it answered with one. */
  detail: string | null;
}

export async function askNode(config: Config, node: NodeConfig, deadlineMs: number): Promise<Answer> {
  const client = new pg.Client(adminClientConfig(config, node, {
    connectionTimeoutMillis: deadlineMs,
    query_timeout: deadlineMs,
    statement_timeout: deadlineMs,
    application_name: 'clusterbot-fence',
  }));
  client.on('error', () => undefined);
  const t = performance.now();
  const ms = () => Math.round(performance.now() - t);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${deadlineMs} ms`)), deadlineMs);
  });
  try {
    await Promise.race([client.connect().then(() => client.query('SELECT 1')), deadline]);
    void client.end().catch(() => undefined);
    return { answers: true, ms: ms(), detail: null };
  } catch (e) {
    // A frozen server never closes its side: drop the socket instead of a polite end().
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    const err = e as { code?: string; message: string };
    // An SQLSTATE means the server itself answered (with an error: starting up, too many clients…).
    // Except 57P03 (cannot connect now: starting up, shutting down — a node crash-restarting after a
    // full WAL disk, say): it cannot be stopped cleanly in any useful time, so it is killed at once.
    const answered = typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) && err.code !== '57P03';
    return { answers: answered, ms: ms(), detail: err.message };
  } finally {
    clearTimeout(timer);
  }
}
