// Free loopback ports for servers the bot or its tests start (a restore check's scratch instance, a
// test cluster's nodes). Chosen below the kernel's ephemeral range (32768+ here), so no outgoing
// connection can be sitting on one by the time the server binds it — a port from listen(0) is an
// ephemeral one, which any client's connect() may take meanwhile. Random, so that parallel callers
// rarely pick the same one.
import { createServer } from 'node:net';

const FIRST = 20000;
const COUNT = 12000;

export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = FIRST + Math.floor(Math.random() * COUNT);
    if (await canListen(port, host)) return port;
  }
  throw new Error(`no free port found in ${FIRST}-${FIRST + COUNT - 1} on ${host}`);
}

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}
