// Generates alerts/egress-rules.yml from alerts/generator/config.yml: thresholds,
// `for:` durations and selectors live in that one file; the expressions live in
// rules.ts. The config sits in a directory of its own so that `alerts/*.yml` is rule
// files only (`promtool check rules alerts/*.yml`, Prometheus `rule_files: [alerts/*.yml]`).
//
//   node --import tsx alerts/generate.ts                      write alerts/egress-rules.yml
//   node --import tsx alerts/generate.ts --check              exit 1 when the committed file differs
//   node --import tsx alerts/generate.ts --stdout             print the rules instead of writing them
//   node --import tsx alerts/generate.ts --config F --out G   another config, another output
//   node --import tsx alerts/generate.ts --for 30s            override every `for:` (end-to-end tests)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedState, runGenerator } from '../scripts/generated-file.js';
import { isDuration, loadConfig } from './config.js';
import { renderRules } from './rules.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const DEFAULT_CONFIG = join(HERE, 'generator', 'config.yml');
const DEFAULT_OUT = join(HERE, 'egress-rules.yml');

function main(argv: readonly string[]): number {
  const args: { config: string; out: string; check: boolean; stdout: boolean; forOverride?: string } = { config: DEFAULT_CONFIG, out: DEFAULT_OUT, check: false, stdout: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg}: expected a value`);
      return v;
    };
    if (arg === '--config') args.config = value();
    else if (arg === '--out') args.out = value();
    else if (arg === '--check') args.check = true;
    else if (arg === '--stdout') args.stdout = true;
    else if (arg === '--for') {
      args.forOverride = value();
      if (!isDuration(args.forOverride)) throw new Error(`--for: expected a duration such as 30s, got ${args.forOverride}`);
    } else throw new Error(`unknown argument ${arg}`);
  }
  const source = relative(join(HERE, '..'), args.config) || args.config;
  const text = renderRules(loadConfig(readFileSync(args.config, 'utf8')), { forOverride: args.forOverride, source });
  if (args.stdout) process.stdout.write(text);
  else if (args.check) {
    if (generatedState(args.out, text) !== 'current') {
      process.stderr.write(`${args.out} is out of date: run node --import tsx alerts/generate.ts\n`);
      return 1;
    }
  } else writeFileSync(args.out, text);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) runGenerator(() => main(process.argv.slice(2)));
