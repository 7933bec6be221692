// The alert rules: promtool checks and unit-tests them; every alert has the labels and
// annotations the monitoring-mixin habits ask for, a runbook section that exists, and
// unit tests where it fires and where it must not; the committed rules file is what
// alerts/generate.ts makes of alerts/generator/config.yml.
import { execFile } from 'node:child_process';
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ALERT_TESTS_DIR, ALERTS_CONFIG, ALERTS_DIR, REPO_ROOT, RULES_FILE, alertRules, metricNamesIn, PROMTOOL_MISSING, runNode, runPromtool } from './helpers/monitoring-queries.js';

const RUNBOOKS = join(REPO_ROOT, 'docs', 'runbooks.md');
const RUNBOOK_BASE = 'https://github.com/egress-exporter/egress-exporter/blob/main/docs/runbooks.md#';

interface AlertTestCase {
  eval_time: string;
  alertname: string;
  exp_alerts?: Array<{ exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }>;
}
interface PromtoolTestFile {
  rule_files: string[];
  tests: Array<{ name?: string; alert_rule_test?: AlertTestCase[] }>;
}

const testFiles = () =>
  readdirSync(ALERT_TESTS_DIR)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => join(ALERT_TESTS_DIR, f));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (m) anchors.add(m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-'));
  }
  return anchors;
}

/** Runs the generator on a config derived from alerts/generator/config.yml; returns the rules file. */
async function generateWith(dir: string, change: (config: Record<string, unknown>) => void): Promise<string> {
  const config = parse(readFileSync(ALERTS_CONFIG, 'utf8')) as Record<string, unknown>;
  change(config);
  const configFile = join(dir, 'config.yml');
  const out = join(dir, 'rules.yml');
  writeFileSync(configFile, stringify(config));
  const result = await runNode(['alerts/generate.ts', '--config', configFile, '--out', out]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return out;
}

describe('alert rules', () => {
  it('pass promtool check rules', async () => {
    const result = await runPromtool(['check', 'rules', RULES_FILE]);
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('are the only files of alerts/*.yml, so the glob loads in promtool (and Prometheus rule_files)', async () => {
    // The glob as a user types it, expanded by the shell.
    const result = await new Promise<{ code: number; output: string }>((resolve, reject) => {
      execFile('sh', ['-c', 'promtool check rules alerts/*.yml'], { cwd: REPO_ROOT, timeout: 120_000 }, (error, stdout, stderr) => {
        if (error && error.code === 127) reject(new Error(PROMTOOL_MISSING));
        else resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: stdout + stderr });
      });
    });
    expect(result.output).toContain(`Checking alerts/egress-rules.yml\n  SUCCESS`);
    expect(result.output).not.toContain('FAILED');
    expect(result.code).toBe(0);
    expect(readdirSync(ALERTS_DIR).filter((f) => f.endsWith('.yml'))).toEqual(['egress-rules.yml']);
  });

  it('come with an Alertmanager route and inhibitions that amtool accepts, naming only alerts that exist', async () => {
    const file = join(ALERTS_DIR, 'alertmanager', 'alertmanager.yml');
    const { stdout, code } = await new Promise<{ stdout: string; code: number }>((resolve) => {
      execFile('amtool', ['check-config', file], (error, out, err) => resolve({ stdout: `${out}${err}`, code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1 }));
    });
    expect(stdout, 'amtool check-config (Debian package prometheus-alertmanager)').toContain('SUCCESS');
    expect(code).toBe(0);
    const named = [...readFileSync(file, 'utf8').matchAll(/alertname="(\w+)"/g)].map((m) => m[1]);
    const known = new Set(alertRules().map((r) => r.alert));
    for (const name of named) expect(known.has(name ?? ''), name).toBe(true);
  });

  it('pass their promtool unit tests', async () => {
    const files = testFiles();
    expect(files.length).toBeGreaterThan(0);
    const result = await runPromtool(['test', 'rules', ...files]);
    expect(result.stdout + result.stderr, 'promtool test rules').not.toContain('FAILED');
    expect(result.code).toBe(0);
  });

  it('are what alerts/generate.ts makes of alerts/generator/config.yml', async () => {
    const result = await runNode(['alerts/generate.ts', '--check']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const stdout = await runNode(['alerts/generate.ts', '--stdout']);
    expect(stdout.stdout).toBe(readFileSync(RULES_FILE, 'utf8'));
  });

  it('cover what the issue asks for', () => {
    const names = new Set(alertRules().map((r) => r.alert));
    for (const name of [
      'EgressHostUnreachable',
      'EgressHTTP2Downgraded',
      'EgressTLSRequirementNotMet',
      'EgressTLSIntercepted',
      'EgressDNSResolutionFailing',
      'EgressDNSSinkholed',
      'EgressDNSTTLBelowFirewallRefresh',
      'EgressDNSAddressesOutsideAllowlist',
      'EgressHostAddressesPartiallyUnreachable',
      'EgressTLSCertificateExpiringSoon',
      'EgressConnectLatencyHigh',
      'EgressProbesStale',
      'EgressExporterDown',
      'EgressProxyFailing',
      'EgressProxyDenied',
    ]) {
      expect(names, name).toContain(name);
    }
    const latency = alertRules().find((r) => r.alert === 'EgressConnectLatencyHigh')!;
    expect(latency.expr).toMatch(/quantile_over_time\([\d.]+, egress_tcp_connect_duration_seconds\{?/);
  });

  it('have a severity, a static summary, a templated description and a runbook that exists', () => {
    const anchors = anchorsOf(readFileSync(RUNBOOKS, 'utf8'));
    for (const rule of alertRules()) {
      expect(rule.alert).toMatch(/^Egress[A-Z][A-Za-z0-9]*$/);
      expect(['critical', 'warning', 'info'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.for, rule.alert).toMatch(/^(\d+(ms|s|m|h|d|w|y))+$/);
      const { summary, description, runbook_url: runbook } = rule.annotations ?? {};
      expect(summary, `${rule.alert} summary`).toMatch(/\S/);
      expect(summary, `${rule.alert} summary is static`).not.toContain('{{');
      expect(description, `${rule.alert} description`).toContain('{{ $labels.');
      expect(runbook, rule.alert).toBe(`${RUNBOOK_BASE}${rule.alert.toLowerCase()}`);
      expect(anchors, `docs/runbooks.md has no section for ${rule.alert}`).toContain(rule.alert.toLowerCase());
    }
  });

  it('have one runbook section for each alert, and none for alerts that do not exist', () => {
    const alerts = new Set(alertRules().map((r) => r.alert.toLowerCase()));
    const sections = [...readFileSync(RUNBOOKS, 'utf8').matchAll(/^## (\S+)$/gm)].map((m) => m[1]!.toLowerCase());
    expect(new Set(sections)).toEqual(alerts);
    for (const section of readFileSync(RUNBOOKS, 'utf8').split(/^## /m).slice(1)) {
      const name = section.split('\n')[0];
      expect(section, `${name}: meaning`).toContain('**Meaning.**');
      expect(section, `${name}: confirm with a command`).toMatch(/\*\*Confirm\.\*\*[\s\S]*(```sh|`[a-z])/);
      expect(section, `${name}: fixes`).toContain('**Fixes.**');
    }
  });

  it('each have a unit test where they fire and one where they must not', () => {
    const fires = new Map<string, number>();
    const silent = new Map<string, number>();
    const bump = (map: Map<string, number>, name: string) => map.set(name, (map.get(name) ?? 0) + 1);
    const summaries = new Map(alertRules().map((r) => [r.alert, r.annotations?.summary]));
    for (const file of testFiles()) {
      const doc = parse(readFileSync(file, 'utf8')) as PromtoolTestFile;
      expect(doc.rule_files, `${file} must test the committed rules`).toEqual(['../egress-rules.yml']);
      for (const test of doc.tests) {
        for (const tc of test.alert_rule_test ?? []) {
          expect(summaries.has(tc.alertname), `${file}: unknown alert ${tc.alertname}`).toBe(true);
          const expected = tc.exp_alerts ?? [];
          if (expected.length === 0) {
            bump(silent, tc.alertname);
            continue;
          }
          bump(fires, tc.alertname);
          for (const alert of expected) {
            expect(alert.exp_labels?.severity, `${file}: ${tc.alertname} exp_labels.severity`).toBeDefined();
            expect(alert.exp_annotations?.summary, `${file}: ${tc.alertname} exp_annotations.summary`).toBe(summaries.get(tc.alertname));
          }
        }
      }
    }
    for (const name of summaries.keys()) {
      expect(fires.get(name) ?? 0, `${name} has no test where it fires`).toBeGreaterThan(0);
      expect(silent.get(name) ?? 0, `${name} has no test where it must not fire`).toBeGreaterThan(0);
    }
    // Both severities of the expiry alert are tested firing.
    const expiry = testFiles()
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    expect(expiry).toMatch(/severity: warning, host: \S+, path: \S+ \}\n\s+exp_annotations:\n\s+summary: A certificate presented/);
    expect(expiry).toMatch(/severity: critical, host: \S+, path: \S+ \}\n\s+exp_annotations:\n\s+summary: A certificate presented/);
  });

  it('name only egress, nodejs and up metrics', () => {
    for (const rule of alertRules()) {
      for (const name of metricNamesIn(rule.expr)) expect(name, rule.alert).toMatch(/^(egress_[a-z0-9_]+|nodejs_[a-z0-9_]+|up)$/);
    }
  });
});

describe('alert settings (alerts/generator/config.yml)', () => {
  it('interception_expected_paths silences interception on those paths only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-alerts-'));
    try {
      const rules = await generateWith(dir, (config) => {
        config.interception_expected_paths = 'zscaler|corp-inspect';
      });
      const annotations = (alert: string, host: string | undefined, path: string, description: string) => ({
        exp_labels: { severity: 'critical', ...(host !== undefined && { host }), path },
        exp_annotations: {
          summary: alertRules(rules).find((r) => r.alert === alert)!.annotations!.summary,
          description,
          runbook_url: `${RUNBOOK_BASE}${alert.toLowerCase()}`,
        },
      });
      const test = {
        rule_files: ['rules.yml'],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [
              // Expected interception, CA given to the exporter: nothing.
              { series: 'egress_tls_intercepted{host="cgr.dev", path="zscaler"}', values: '1x30' },
              { series: 'egress_tls_verified{host="cgr.dev", path="zscaler"}', values: '1x30' },
              // Expected interception, CA not given: the chain does not verify.
              { series: 'egress_tls_intercepted{host="cgr.dev", path="corp-inspect"}', values: '1x30' },
              { series: 'egress_tls_verified{host="cgr.dev", path="corp-inspect"}', values: '0x30' },
              // Interception on a path meant to be clean.
              { series: 'egress_tls_intercepted{host="cgr.dev", path="direct"}', values: '1x30' },
              { series: 'egress_tls_verified{host="cgr.dev", path="direct"}', values: '0x30' },
            ],
            alert_rule_test: [
              {
                eval_time: '20m',
                alertname: 'EgressTLSIntercepted',
                exp_alerts: [
                  // A page for the path, counting its hosts.
                  annotations('EgressTLSIntercepted', undefined, 'direct', 'The certificate chains of 1 host(s) on path direct are re-signed by another CA: a TLS-inspecting proxy or firewall intercepts them: cgr.dev.'),
                ],
              },
              {
                eval_time: '20m',
                alertname: 'EgressTLSCertificateInvalid',
                exp_alerts: [
                  annotations(
                    'EgressTLSCertificateInvalid',
                    'cgr.dev',
                    'corp-inspect',
                    'The certificate chain of cgr.dev on path corp-inspect does not verify for the host name against the system roots plus tls.ca_file.',
                  ),
                ],
              },
            ],
          },
        ],
      };
      const testFile = join(dir, 'test.yml');
      writeFileSync(testFile, stringify(test));
      const result = await runPromtool(['test', 'rules', testFile]);
      expect(result.stdout + result.stderr).not.toContain('FAILED');
      expect(result.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('selector narrows every selector of every alert', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-alerts-'));
    try {
      const rules = await generateWith(dir, (config) => {
        config.selector = 'job="egress", env="prod"';
      });
      expect((await runPromtool(['check', 'rules', rules])).code).toBe(0);
      for (const rule of alertRules(rules)) {
        // Label lists (`by (job, egress_zone)`) name labels, not series: they have no selector.
        const expr = rule.expr.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
        const selectors = [...expr.matchAll(/\b((?:egress|nodejs)_[a-z0-9_]+|up)\b(\{[^}]*\})?(?!\s*\()/g)];
        expect(selectors.length, rule.alert).toBeGreaterThan(0);
        for (const [whole, , matchers] of selectors) expect(matchers ?? '', `${rule.alert}: ${whole}`).toContain('job="egress", env="prod"');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--for overrides every for: duration (for end-to-end tests)', async () => {
    const result = await runNode(['alerts/generate.ts', '--for', '15s', '--stdout']);
    expect(result.code).toBe(0);
    const doc = parse(result.stdout) as { groups: Array<{ rules: Array<{ for: string }> }> };
    const fors = doc.groups.flatMap((g) => g.rules.map((r) => r.for));
    expect(fors.length).toBe(alertRules().length);
    expect(new Set(fors)).toEqual(new Set(['15s']));
  });

  it('rejects unknown keys and bad values, naming them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-alerts-'));
    try {
      const config = parse(readFileSync(ALERTS_CONFIG, 'utf8')) as { alerts: Record<string, Record<string, unknown>> } & Record<string, unknown>;
      config.tresholds = 1;
      config.alerts.EgressHostUnreachable!.for = 'five minutes';
      config.alerts.EgressConnectLatencyHigh!.threshold_seconds = -1;
      config.alerts.EgressProxyDenied!.severity = 'page';
      // Units out of order: the exporter's config (and Prometheus) reject it, so the generator does too.
      config.alerts.EgressProxyFailing!.for = '5s5m';
      delete config.alerts.EgressDNSSinkholed;
      const file = join(dir, 'config.yml');
      writeFileSync(file, stringify(config));
      const result = await runNode(['alerts/generate.ts', '--config', file, '--stdout']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('tresholds: unknown key');
      expect(result.stderr).toContain('alerts.EgressHostUnreachable.for: expected a duration such as 5m, got "five minutes"');
      expect(result.stderr).toContain('alerts.EgressConnectLatencyHigh.threshold_seconds: expected a positive number, got -1');
      expect(result.stderr).toContain('alerts.EgressProxyDenied.severity: expected one of critical, warning, info, got "page"');
      expect(result.stderr).toContain('alerts.EgressDNSSinkholed: missing');
      expect(result.stderr).toContain('alerts.EgressProxyFailing.for: expected a duration such as 5m, got "5s5m"');
      const badFor = await runNode(['alerts/generate.ts', '--for', '5s5m', '--stdout']);
      expect(badFor.code).toBe(1);
      expect(badFor.stderr).toBe('--for: expected a duration such as 30s, got 5s5m\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
