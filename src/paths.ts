import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

/** The repository root (where package.json and postgres/ live), from source or from dist/. */
export function repoRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'clusterbot') return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the clusterbot repository root');
    dir = up;
  }
}

export const postgresAsset = (name: string) => join(repoRoot(), 'postgres', name);
