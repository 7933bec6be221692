// Writes deploy/kubernetes/components/prometheus-operator/prometheusrule.yaml, a Prometheus Operator
// PrometheusRule, from the Prometheus rule file alerts/egress-rules.yml, so the
// two never diverge: edit the rule file, then run
//
//   node --import tsx deploy/kubernetes/generate-prometheusrule.ts           # write it
//   node --import tsx deploy/kubernetes/generate-prometheusrule.ts --check   # exit 1 if stale
//
// --rules FILE and --out FILE override the two paths (relative to the
// repository root). Exit codes: 0 written or up to date, 1 missing or invalid
// rule file, or (with --check) an out-of-date output, 2 usage error.
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { generatedState, runGenerator } from '../../scripts/generated-file.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEFAULT_RULES = 'alerts/egress-rules.yml';
const DEFAULT_OUT = 'deploy/kubernetes/components/prometheus-operator/prometheusrule.yaml';
const PREFIX = 'generate-prometheusrule: ';

class GenerateError extends Error {}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The PrometheusRule manifest for the text of a Prometheus rule file.
 * `source` is the rule file's path as shown in the header comment.
 */
export function renderPrometheusRule(rulesText: string, source: string): string {
  let rules: unknown;
  try {
    rules = parse(rulesText);
  } catch (error) {
    throw new GenerateError(`${source}: invalid YAML: ${message(error)}`);
  }
  const groups: unknown = rules !== null && typeof rules === 'object' && !Array.isArray(rules) ? (rules as { groups?: unknown }).groups : undefined;
  if (!Array.isArray(groups) || groups.length === 0) {
    throw new GenerateError(`${source}: expected a Prometheus rule file with a non-empty "groups" list`);
  }
  const manifest = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'egress-exporter',
      labels: {
        'app.kubernetes.io/name': 'egress-exporter',
        'app.kubernetes.io/component': 'alerting-rules',
      },
    },
    spec: { groups },
  };
  const header = [
    `# Generated from ${source} by deploy/kubernetes/generate-prometheusrule.ts.`,
    '# Do not edit: edit the rule file and run the script again.',
    '# Your Prometheus must select it: add the label its ruleSelector expects.',
  ];
  return `${header.join('\n')}\n${stringify(manifest, { lineWidth: 0 })}`;
}

async function main(argv: string[]): Promise<number> {
  let values: { rules: string; out: string; check: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        rules: { type: 'string', default: DEFAULT_RULES },
        out: { type: 'string', default: DEFAULT_OUT },
        check: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    process.stderr.write(`${PREFIX}${message(error)}\n`);
    return 2;
  }
  const rulesPath = resolve(ROOT, values.rules);
  const outPath = resolve(ROOT, values.out);

  let rulesText: string;
  try {
    rulesText = await readFile(rulesPath, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory (ENOENT)' : String(error);
    process.stderr.write(`${PREFIX}cannot read the rule file ${rulesPath}: ${reason}\n`);
    return 1;
  }
  let manifest: string;
  try {
    manifest = renderPrometheusRule(rulesText, values.rules);
  } catch (error) {
    if (!(error instanceof GenerateError)) throw error;
    process.stderr.write(`${PREFIX}${error.message}\n`);
    return 1;
  }

  if (values.check) {
    const state = generatedState(outPath, manifest);
    if (state === 'current') return 0;
    process.stderr.write(`${PREFIX}${outPath} is ${state === 'missing' ? 'missing' : 'out of date'}: run node --import tsx deploy/kubernetes/generate-prometheusrule.ts\n`);
    return 1;
  }
  await writeFile(outPath, manifest);
  process.stdout.write(`wrote ${outPath} from ${rulesPath}\n`);
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) runGenerator(() => main(process.argv.slice(2)), PREFIX);
