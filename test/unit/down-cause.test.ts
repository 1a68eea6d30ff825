// The cause of a down node read from its log: a real PostgreSQL 15 log of a full pg_wal (PANIC in a
// session, then crash recovery failing), clients refused meanwhile, and a clean stop.
import { describe, expect, it } from 'vitest';
import { causeFromLog } from '../../src/cluster/down-cause.js';

const WAL_FULL = `2026-12-03 07:09:24.422 UTC [1682] LOG:  starting PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu
2026-12-03 07:09:25.000 UTC [1700] admin@proyecto_db FATAL:  password authentication failed for user "admin"
2026-12-03 07:09:32.908 UTC [1682] LOG:  received fast shutdown request
2026-12-03 07:09:33.145 UTC [1682] LOG:  database system is shut down
2026-12-03 07:09:33.643 UTC [2287] LOG:  starting PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu
2026-12-03 07:09:33.677 UTC [2287] LOG:  database system is ready to accept connections
2026-12-03 07:09:35.066 UTC [2316] admin@proyecto_db PANIC:  could not write to file "pg_wal/xlogtemp.2316": No space left on device
2026-12-03 07:09:35.066 UTC [2316] admin@proyecto_db STATEMENT:  INSERT INTO load (pad) SELECT repeat('x', 1000) FROM generate_series(1,100)
2026-12-03 07:09:35.074 UTC [2287] LOG:  server process (PID 2316) was terminated by signal 6: Aborted
2026-12-03 07:09:35.082 UTC [2308] FATAL:  archive command was terminated by signal 3: Quit
2026-12-03 07:09:35.100 UTC [2400] admin@proyecto_db FATAL:  the database system is in recovery mode
2026-12-03 07:09:36.831 UTC [2396] FATAL:  could not write to file "pg_wal/xlogtemp.2396": No space left on device
2026-12-03 07:09:36.844 UTC [2287] LOG:  shutting down due to startup process failure
2026-12-03 07:09:36.858 UTC [2287] LOG:  database system is shut down`;

describe('causeFromLog', () => {
  it('names a full disk first, with the line that says so', () => {
    expect(causeFromLog(WAL_FULL)).toBe('disk full (PANIC: could not write to file "pg_wal/xlogtemp.2316": No space left on device)');
  });

  it('ignores what happened before the last start, and clients refused during a crash restart', () => {
    const clean = WAL_FULL.split('\n').slice(0, 4).join('\n');
    expect(causeFromLog(clean)).toBeNull();
    const refusedOnly = `${WAL_FULL.split('\n')[4]}\n2026-12-03 07:10:00.000 UTC [9] admin@proyecto_db FATAL:  the database system is in recovery mode`;
    expect(causeFromLog(refusedOnly)).toBeNull();
  });

  it('a replica stopped on purpose has no cause, even after its WAL receiver failed to connect', () => {
    const log = [
      '2026-12-03 07:00:00.000 UTC [1] LOG:  starting PostgreSQL 15.18',
      '2026-12-03 07:00:05.000 UTC [7] FATAL:  could not connect to the primary server: connection to server at "127.0.0.1", port 5432 failed: Connection refused',
      '2026-12-03 07:00:06.000 UTC [8] FATAL:  could not open file "x": Permission denied',
      '2026-12-03 07:00:09.000 UTC [1] LOG:  received fast shutdown request',
      '2026-12-03 07:00:09.100 UTC [1] LOG:  database system is shut down',
    ].join('\n');
    expect(causeFromLog(log)).toBeNull();
    expect(causeFromLog(log.split('\n').slice(0, 2).join('\n'))).toBeNull();
  });

  it('falls back to the server\'s own PANIC or FATAL line', () => {
    const log = `2026-12-03 07:00:00.000 UTC [1] LOG:  starting PostgreSQL 15.18\n2026-12-03 07:00:01.000 UTC [5] FATAL:  could not open file "global/pg_control": Permission denied`;
    expect(causeFromLog(log)).toBe('FATAL: could not open file "global/pg_control": Permission denied');
  });
});
