// The README's /metrics expression of the overall verdict (what /probe answers as
// probe_success), run by promtool on series of the shapes the exporter writes: every
// check counts; a failed lookup only where the target's clients resolve the name
// (egress_dns_resolution_required); a path that must stay blocked by its verdict
// (egress_blocked_verdict), not its checks; the registry pull too; per exporter, never borrowing
// another replica's facts. test/e2e-probe.test.ts compares it with /probe in a real
// Prometheus; this covers the cases a lab cannot make in one run.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { tempDir } from './helpers/exporter.js';
import { runPromtool } from './helpers/monitoring-queries.js';
import { PROBE_SECTION, readmeBlock } from './helpers/readme.js';

type Labels = Record<string, string>;

const series = (name: string, labels: Labels): string =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

const x1 = { instance: 'x1:9739', job: 'egress-exporter' };
const x2 = { instance: 'x2:9739', job: 'egress-exporter' };

/** [labels of the target (instance and job included), its checks' success by check and where, whether clients resolve its name, the verdicts of its paths that must stay blocked]. */
const TARGETS: Array<{ target: Labels; checks: Array<[string, Labels, number]>; required?: number; blocked?: Array<[string, string]>; expected: number; why: string }> = [
  { why: 'every check succeeds', target: { ...x1, host: 'a.test' }, checks: [['dns', { resolver: 'system' }, 1], ['tcp', { path: 'direct' }, 1], ['tls', { path: 'direct' }, 1], ['http', { path: 'direct' }, 1]], required: 1, expected: 1 },
  { why: 'a failed lookup behind a proxy that resolves for its clients', target: { ...x1, host: 'b.test' }, checks: [['dns', { resolver: 'system' }, 0], ['tcp', { path: 'corp' }, 1], ['tls', { path: 'corp' }, 1]], required: 0, expected: 1 },
  { why: 'a failed lookup where clients resolve', target: { ...x1, host: 'c.test' }, checks: [['dns', { resolver: '10.0.0.53:53' }, 0], ['dns', { resolver: 'system' }, 1], ['tcp', { path: 'direct' }, 1]], required: 1, expected: 0 },
  { why: 'one path of two fails (a port off 443)', target: { ...x1, host: 'd.test', port: '8443' }, checks: [['tcp', { path: 'direct' }, 1], ['tcp', { path: 'corp' }, 1], ['http', { path: 'direct' }, 1], ['http', { path: 'corp' }, 0]], expected: 0 },
  { why: 'the registry pull fails', target: { ...x1, host: 'r.test' }, checks: [['tcp', { path: 'direct' }, 1], ['registry', { path: 'direct' }, 0]], expected: 0 },
  { why: "another replica's dns.required does not excuse this one's failed lookup", target: { ...x2, host: 'b.test' }, checks: [['dns', { resolver: 'system' }, 0], ['tcp', { path: 'corp' }, 1]], required: 1, expected: 0 },
  // Paths that must stay blocked (expect): their checks fail by design; their verdict counts.
  { why: 'a host that must stay blocked, refused and NXDOMAIN', target: { ...x1, host: 'canary.test' }, checks: [['dns', { resolver: 'system' }, 0], ['tcp', { path: 'direct' }, 0], ['tls', { path: 'direct' }, 0]], required: 0, blocked: [['direct', 'blocked']], expected: 1 },
  { why: 'a host that must stay blocked got out', target: { ...x1, host: 'hole.test' }, checks: [['tcp', { path: 'direct' }, 1], ['tls', { path: 'direct' }, 1]], blocked: [['direct', 'reachable']], expected: 0 },
  { why: 'nothing could tell whether it stays blocked', target: { ...x1, host: 'dark.test' }, checks: [['tcp', { path: 'direct' }, 0]], blocked: [['direct', 'unknown']], expected: 0 },
  { why: 'the proxy denies the canary, as it must, and the direct path that must work fails', target: { ...x1, host: 'mixed.test' }, checks: [['tcp', { path: 'corp' }, 0], ['tcp', { path: 'direct' }, 0]], blocked: [['corp', 'blocked']], expected: 0 },
  { why: 'the proxy denies the canary, as it must, and the direct path works', target: { ...x1, host: 'fine.test' }, checks: [['tcp', { path: 'corp' }, 0], ['tcp', { path: 'direct' }, 1]], blocked: [['corp', 'blocked']], expected: 1 },
];

let dir: string;

beforeAll(async () => {
  dir = await tempDir('egress-probe-success-');
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("the README's /metrics expression of probe_success", () => {
  it('gives each target the verdict /probe gives it', async () => {
    const expr = readmeBlock(PROBE_SECTION, 'promql');
    const input: Array<{ series: string; values: string }> = [];
    for (const { target, checks, required, blocked } of TARGETS) {
      for (const [check, where, value] of checks) input.push({ series: series('egress_probe_success', { ...target, check, ...where }), values: `${value}x10` });
      if (required !== undefined) input.push({ series: series('egress_dns_resolution_required', target), values: `${required}x10` });
      for (const [path, verdict] of blocked ?? []) input.push({ series: series('egress_blocked_verdict', { ...target, path, verdict }), values: '1x10' });
    }
    await writeFile(join(dir, 'none.yml'), 'groups: []\n');
    await writeFile(
      join(dir, 'test.yml'),
      stringify({
        rule_files: ['none.yml'],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: input,
            promql_expr_test: [{ expr, eval_time: '5m', exp_samples: TARGETS.map(({ target, expected }) => ({ labels: series('', target), value: expected })) }],
          },
        ],
      }),
    );
    const result = await runPromtool(['test', 'rules', 'test.yml'], { cwd: dir });
    expect(result.code, `${result.stdout}\n${result.stderr}\n${TARGETS.map((t) => `${JSON.stringify(t.target)}: ${t.expected} (${t.why})`).join('\n')}`).toBe(0);
  });
});
