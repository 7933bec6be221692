// The README's opening promises: the two commands, and the Debian packages `npm test`
// installs (scripts/ensure-tools.mjs is the list), named where a new user reads first.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync('README.md', 'utf8');
const opening = readme.slice(0, readme.indexOf('\n## '));

describe('the README opening', () => {
  it('starts with exactly the two commands', () => {
    expect(readme.startsWith('# egress-exporter\n\n```sh\nnpm ci && npm start\nnpm test\n```\n')).toBe(true);
  });

  it('names every Debian package npm test installs', () => {
    const script = readFileSync('scripts/ensure-tools.mjs', 'utf8');
    const testTools = script.slice(script.indexOf('const TEST_TOOLS'), script.indexOf('const BENCH_TOOLS'));
    const packages = [...new Set([...testTools.matchAll(/pkg: '([^']+)'/g)].map((m) => m[1]!))];
    expect(packages.length).toBeGreaterThan(10);
    expect(packages.filter((pkg) => !opening.includes(`\`${pkg}\``))).toEqual([]);
  });
});
