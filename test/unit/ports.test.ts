// src/runtime/ports.ts: a port handed out is free and below the ephemeral range, and is not handed
// out again while reserved, even though nothing has bound it yet (a test cluster binds a replica's
// port only after its base backup, while parallel files ask for ports).
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { freePort } from '../../src/runtime/ports.js';

describe('freePort', () => {
  it('hands out 300 distinct ports without any being bound (random picks from 12000 would repeat one almost surely)', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 300; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    expect(Math.min(...ports)).toBeGreaterThanOrEqual(20000);
    expect(Math.max(...ports)).toBeLessThan(32000);
  });

  it('skips a port another program listens on without a reservation', async () => {
    const port = await freePort();
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
    rmSync(join(tmpdir(), 'clusterbot-ports', String(port))); // a program that never asked freePort
    const pick = vi.spyOn(Math, 'random').mockImplementationOnce(() => (port - 20000 + 0.5) / 12000);
    try {
      const next = await freePort();
      expect(pick.mock.calls.length).toBeGreaterThanOrEqual(2); // the listening port was drawn first, then passed over
      expect(next).not.toBe(port);
    } finally {
      pick.mockRestore();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});
