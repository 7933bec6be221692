// Generates the Grafana dashboards in this directory. The JSON files are committed;
// a test fails when they differ from what this script writes.
//
//   node --import tsx dashboards/generate.ts            write dashboards/*.json
//   node --import tsx dashboards/generate.ts --check    exit 1 when a committed file is out of date
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedState, runGenerator } from '../scripts/generated-file.js';
import { host } from './host.js';
import { overview } from './overview.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export function renderDashboards(): Record<string, string> {
  return {
    'egress-overview.json': `${JSON.stringify(overview(), null, 2)}\n`,
    'egress-host.json': `${JSON.stringify(host(), null, 2)}\n`,
  };
}

function main(argv: readonly string[]): number {
  const check = argv.includes('--check');
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]}`);
  let stale = false;
  for (const [name, text] of Object.entries(renderDashboards())) {
    const file = join(HERE, name);
    if (!check) writeFileSync(file, text);
    else if (generatedState(file, text) !== 'current') {
      process.stderr.write(`${file} is out of date: run node --import tsx dashboards/generate.ts\n`);
      stale = true;
    }
  }
  return stale ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) runGenerator(() => main(process.argv.slice(2)));
