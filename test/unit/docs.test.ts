// The README stays a short front page and docs/ stays navigable: the two commands are the ones CI
// and a newcomer run, every docs page is in the table of contents and starts with the reader's
// task, and no relative link points at a file that does not exist.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (rel: string) => readFileSync(join(root, rel), 'utf8');
const readme = read('README.md');
const pages = readdirSync(join(root, 'docs')).filter((n) => n.endsWith('.md'));
/** Pages other branches are writing at the same time; linked already, they arrive with the merge. */
function relativeLinks(file: string): string[] {
  const text = read(file).replace(/```[\s\S]*?```/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1].split('#')[0])
    .filter((target) => target && !/^[a-z]+:/i.test(target));
}

describe('README and docs/', () => {
  it('README is a front page of at most 250 lines with the two commands CI and a newcomer run', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    expect(readme).toMatch(/^bash scripts\/start\.sh {2,}# set up and run/m);
    expect(readme).toMatch(/^bash scripts\/test\.sh {2,}# run every test suite/m);
    expect(read('.ci/run')).toMatch(/^exec bash scripts\/test\.sh$/m);
    expect(readme).toContain('](docs/lag-chart.png)');
    expect(readme).toContain('](docs/architecture.svg)');
  });

  it('lists every docs page in the README table of contents', () => {
    const listed = new Set([...readme.matchAll(/\]\(docs\/([\w.-]+\.md)\)/g)].map((m) => m[1]));
    expect(pages.filter((p) => !listed.has(p))).toEqual([]);
  });

  it('starts every docs page with the task a reader has', () => {
    for (const p of pages) {
      const firstParagraph = read(`docs/${p}`).split('\n').filter((l) => l && !l.startsWith('<!--') && !l.startsWith('# '))[0];
      expect(firstParagraph, `docs/${p} should open with the reader's task ("You want …")`).toMatch(/^(You|If you|When you|Your)\b/);
    }
  });

  it('has no relative link to a missing file', () => {
    const broken: string[] = [];
    for (const file of ['README.md', ...pages.map((p) => `docs/${p}`)]) {
      for (const target of relativeLinks(file)) {
        const abs = resolve(dirname(join(root, file)), target);
        if (!existsSync(abs)) broken.push(`${file} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
