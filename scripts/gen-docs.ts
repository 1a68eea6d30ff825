// `npm run docs`: everything in docs/ that is generated — the configuration reference from the zod
// schema, and the benchmark tables copied from bench/results/*.md into the pages that show them
// (between `<!-- begin bench/results/X.md … -->` and `<!-- end bench/results/X.md -->`).
// test/unit/config-docs.test.ts fails, saying "run npm run docs", when a committed page differs.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_DOC, renderConfigDocs } from './gen-config-docs.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MARKED = /(<!-- begin (bench\/results\/[\w.-]+\.md)[^\n]*-->\n)[\s\S]*?(\n<!-- end \2 -->)/g;

/** The page with every marked block replaced by the current content of the file it names. */
export function embedBenchResults(page: string, read = (rel: string) => readFileSync(`${ROOT}${rel}`, 'utf8')): string {
  return page.replace(MARKED, (_all, begin: string, rel: string, end: string) => `${begin}${read(rel).trim()}${end}`);
}

/** Every generated page: absolute path → the content it must have. */
export function generatedDocs(): Map<string, string> {
  const out = new Map<string, string>([[CONFIG_DOC, renderConfigDocs()]]);
  const dir = `${ROOT}docs/`;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.md'))) {
    const current = readFileSync(`${dir}${name}`, 'utf8');
    if (`${dir}${name}` !== CONFIG_DOC && MARKED.test(current)) out.set(`${dir}${name}`, embedBenchResults(current));
    MARKED.lastIndex = 0;
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [path, content] of generatedDocs()) {
    const changed = readFileSync(path, 'utf8') !== content;
    if (changed) writeFileSync(path, content);
    console.log(`${changed ? 'wrote' : 'up to date'} ${path.slice(ROOT.length)}`);
  }
}
