// The sharding alerts (docs/sharding.md): replicas of one group (a job in one namespace
// and zone, by default) that disagree on how many shards there are, and targets that no
// live replica probes. Two replicas of one shard are an HA pair: the owned targets are
// added up once per `shard` label, so a pair neither fires nor counts twice.
import { SHARD_FAMILIES } from '../src/metrics/registry.js';
import { shardGroupLabels } from './config.js';
import type { AlertsConfig } from './config.js';
import type { Rule, RuleOf } from './rule.js';

/**
 * @param s a selector from the given matchers plus the config's selector.
 */
export function shardingRules(config: AlertsConfig, s: (...matchers: string[]) => string, rule: RuleOf): Rule[] {
  const labels = shardGroupLabels(config);
  const by = labels.join(', ');
  const owned = `${SHARD_FAMILIES.owned}${s()}`;
  const total = `${SHARD_FAMILIES.total}${s()}`;
  const configured = `${SHARD_FAMILIES.configured}${s()}`;
  /** One number per shard of a group: its HA replicas report the same, and count once. */
  const perShard = `max by (${by}, shard) (${owned})`;
  const disagree = `count by (${by}) (count_values by (${by}) ("total_shards", ${total})) > 1`;

  // Annotations: the group in words, and queries narrowed to the alert's own group. A
  // label the series lack reads "" in $labels, and `label=""` matches the series that lack it.
  const group = labels.map((label, i) => (i === 0 ? `${label} {{ $labels.${label} }}` : `{{ with $labels.${label} }}, ${label} {{ . }}{{ end }}`)).join('');
  const where = (...extra: string[]): string => [...labels.map((label) => `${label}=%q`), ...extra, config.selector.trim()].filter((m) => m !== '').join(', ').replace(/%(?!q)/g, '%%');
  const args = labels.map((label) => ` $labels.${label}`).join('');
  /** `{{ with <query> }}{{ . | first | value }}{{ end }}`: one number about the alert's group. */
  const one = (query: (selector: string) => string): string => `{{ with printf \`${query(`{${where()}}`)}\`${args} | query }}{{ . | first | value }}{{ end }}`;

  return [
    rule('EgressExporterShardingMismatch', {
      expr: disagree,
      summary: 'Replicas of the egress exporter disagree on how many shards split the targets.',
      description:
        `The replicas of ${group} disagree on --total-shards (` +
        `{{ range $i, $s := printf \`count_values by (total_shards) ("total_shards", ${SHARD_FAMILIES.total}{${where()}})\`${args} | query | sortByLabel "total_shards" }}` +
        `{{ if $i }}, {{ end }}{{ $s | value }} say {{ $s.Labels.total_shards }}{{ end }}` +
        '): some targets are probed by two replicas and others by none. --total-shards must equal the number of shards (the StatefulSet\'s replicas) on every replica.',
    }),
    rule('EgressExporterTargetsUncovered', {
      // A group whose replicas disagree is EgressExporterShardingMismatch's page: one fault, one alert.
      expr:
        `(\n` +
        `    sum by (${by}) (${perShard})\n` +
        `    != on (${by}) max by (${by}) (${configured})\n` +
        `  or on (${by})\n` +
        `    count by (${by}) (${perShard})\n` +
        `    < on (${by}) max by (${by}) (${total})\n` +
        `)\n` +
        `unless on (${by}) (${disagree})`,
      summary: 'Some configured targets are probed by no live replica of the egress exporter.',
      description:
        `The live replicas of ${group} own ` +
        one((sel) => `sum(max by (shard) (${SHARD_FAMILIES.owned}${sel}))`) +
        ' of the ' +
        one((sel) => `max(${SHARD_FAMILIES.configured}${sel})`) +
        ' configured targets, on ' +
        one((sel) => `count(max by (shard) (${SHARD_FAMILIES.owned}${sel}))`) +
        ' of ' +
        one((sel) => `max(${SHARD_FAMILIES.total}${sel})`) +
        ' shards: the targets of a shard with no live replica are not probed.',
    }),
  ];
}
