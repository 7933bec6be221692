// The README's own examples, read by the tests that run them (a scrape config, a query),
// so what users copy is what was tested.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './monitoring-queries.js';

/** The first fenced block of `lang` after the line `heading` in README.md. */
export function readmeBlock(heading: string, lang: string): string {
  const text = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const at = text.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`README.md has no "${heading}"`);
  const fence = `\n\`\`\`${lang}\n`;
  const open = text.indexOf(fence, at);
  if (open < 0) throw new Error(`README.md has no \`\`\`${lang} block after "${heading}"`);
  const start = open + fence.length;
  return text.slice(start, text.indexOf('\n```', start));
}

/** The README section on /probe with Prometheus: its scrape config and its /metrics query. */
export const PROBE_SECTION = '### /probe with Prometheus';
