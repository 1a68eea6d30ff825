// Database and connection errors, matched by SQLSTATE or errno, never by message text.
const SQLSTATE: Record<string, string> = {
  '57P01': 'the server is shutting down',
  '57P02': 'the server crashed',
  '57P03': 'the server is starting up or shutting down',
  '25006': 'the node is read-only (a replica or fenced)',
  '28P01': 'password authentication failed (check POSTGRES_ADMIN_PASSWORD)',
  '28000': 'connection rejected by pg_hba.conf',
  '3D000': 'the database does not exist',
  '53300': 'too many connections',
  '57014': 'the query timed out',
};

export function describeDbError(e: unknown): string {
  const err = e as { code?: string; message?: string };
  if (err?.code && SQLSTATE[err.code]) return SQLSTATE[err.code];
  if (err?.code === 'NO_ANSWER') return err.message!;
  if (err?.code === 'ECONNREFUSED') return 'connection refused (not running)';
  if (err?.code === 'ECONNRESET') return 'connection reset';
  if (isTimeout(e)) return 'no answer (timed out)';
  return (err?.message ?? String(e)).split('\n')[0];
}

/** The client gave up waiting (connect or query), as opposed to the server refusing. */
export function isTimeout(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  if (err?.code && /^[0-9A-Z]{5}$/.test(err.code)) return false; // the server answered, with an error
  return err?.code === 'NO_ANSWER' || err?.code === 'ETIMEDOUT' || /timeout/i.test(err?.message ?? '');
}

export function isReadOnlyError(e: unknown): boolean {
  return (e as { code?: string })?.code === '25006';
}
