#!/usr/bin/env node
// Entry point: runs the compiled CLI. `npm run build` (done by scripts/start.sh and scripts/test.sh) makes dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
const cli = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('clusterbot is not built yet: run `npm run build` (or `bash scripts/start.sh`, which builds and starts it).');
  process.exit(2);
}
await import(pathToFileURL(cli).href);
