// Free loopback ports for servers the bot or its tests start (a restore check's scratch instance, a
// test cluster's nodes). Chosen below the kernel's ephemeral range (32768+ here), so no outgoing
// connection can be sitting on one by the time the server binds it — a port from listen(0) is an
// ephemeral one, which any client's connect() may take meanwhile.
//
// A port free now may be handed out again before its server binds it (a test cluster binds its
// replicas' ports only after their base backups), so each port handed out is also reserved, across
// processes, by an exclusive file under the temp folder; a reservation lapses after RESERVE_MS.
import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portFree } from './process.js';

const FIRST = 20000;
const COUNT = 12000;
const RESERVE_MS = 15 * 60_000;
const RESERVED = join(tmpdir(), 'clusterbot-ports');

export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = FIRST + Math.floor(Math.random() * COUNT);
    if (reserve(port) && (await portFree(host, port))) return port;
  }
  throw new Error(`no free port found in ${FIRST}-${FIRST + COUNT - 1} on ${host}`);
}

/** Claims `port` for RESERVE_MS; false when another caller holds it. */
function reserve(port: number): boolean {
  const file = join(RESERVED, String(port));
  try {
    // Shared by every user, like the temp folder itself.
    if (mkdirSync(RESERVED, { recursive: true })) chmodSync(RESERVED, 0o1777);
  } catch {
    // No folder: the write below fails and the listen check stands alone.
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return true; // cannot reserve here: rely on the listen check
      try {
        if (Date.now() - statSync(file).mtimeMs < RESERVE_MS) return false;
        rmSync(file, { force: true }); // lapsed: claim it anew
      } catch {
        return false;
      }
    }
  }
  return false;
}
