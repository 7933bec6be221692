// The sharding alerts' setting (shard_group_labels in alerts/generator/config.yml):
// refused when it cannot group replicas, and obeyed when it names other labels: a
// `zone` label instead of `egress_zone` still pages each zone apart.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ALERTS_CONFIG, alertRules, runNode, runPromtool } from './helpers/monitoring-queries.js';

/** Runs the generator on the shipped config with `shard_group_labels` set to `value`. */
async function generate(dir: string, value: unknown): Promise<{ code: number; stderr: string; out: string }> {
  const config = parse(readFileSync(ALERTS_CONFIG, 'utf8')) as Record<string, unknown>;
  config.shard_group_labels = value;
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yml`);
  const out = join(dir, 'rules.yml');
  writeFileSync(file, stringify(config));
  const result = await runNode(['alerts/generate.ts', '--config', file, '--out', out]);
  return { code: result.code, stderr: result.stderr, out };
}

describe('shard_group_labels', () => {
  it('is refused, named, when it cannot group replicas', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-alerts-shard-'));
    try {
      const cases: Array<[unknown, string]> = [
        ['', 'shard_group_labels: expected label names separated by commas, such as "job, egress_zone", got ""'],
        ['job, egress-zone', 'shard_group_labels: expected label names separated by commas, such as "job, egress_zone", got "job, egress-zone"'],
        ['job, instance', 'shard_group_labels: instance would put every replica in a group of its own'],
        ['job, pod, shard', 'shard_group_labels: pod, shard would put every replica in a group of its own'],
        [['job'], 'shard_group_labels: expected a string'],
      ];
      for (const [value, message] of cases) {
        const result = await generate(dir, value);
        expect(result.code, JSON.stringify(value)).toBe(1);
        expect(result.stderr, JSON.stringify(value)).toContain(`\n  ${message}\n`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('groups by the labels it names: zones labelled `zone` page apart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-alerts-shard-'));
    try {
      const { code, out } = await generate(dir, 'job, zone');
      expect(code).toBe(0);
      const rule = alertRules(out).find((r) => r.alert === 'EgressExporterTargetsUncovered')!;
      expect(rule.expr).toContain('max by (job, zone, shard) (egress_exporter_targets_owned)');
      const series = (zone: string, instance: string, shard: string, owned: number) => [
        { series: `egress_exporter_targets_owned{job="egress", zone="${zone}", instance="${instance}", shard="${shard}"}`, values: `${owned}x30` },
        { series: `egress_exporter_total_shards{job="egress", zone="${zone}", instance="${instance}"}`, values: '2x30' },
        { series: `egress_exporter_targets_configured{job="egress", zone="${zone}", instance="${instance}"}`, values: '20x30' },
      ];
      const test = {
        rule_files: ['rules.yml'],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            // Zone a has both shards; zone b only shard 0.
            input_series: [...series('a', 'a0', '0', 12), ...series('a', 'a1', '1', 8), ...series('b', 'b0', '0', 12)],
            alert_rule_test: [
              {
                eval_time: '20m',
                alertname: 'EgressExporterTargetsUncovered',
                exp_alerts: [
                  {
                    exp_labels: { severity: 'critical', job: 'egress', zone: 'b' },
                    exp_annotations: {
                      summary: rule.annotations!.summary,
                      description:
                        'The live replicas of job egress, zone b own 12 of the 20 configured targets, on 1 of 2 shards: the targets of a shard with no live replica are not probed.',
                      runbook_url: rule.annotations!.runbook_url,
                    },
                  },
                ],
              },
            ],
          },
        ],
      };
      writeFileSync(join(dir, 'test.yml'), stringify(test));
      const result = await runPromtool(['test', 'rules', join(dir, 'test.yml')]);
      expect(result.stdout + result.stderr).not.toContain('FAILED');
      expect(result.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
