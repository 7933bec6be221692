// The alerts generator's input (alerts/generator/config.yml): thresholds, `for:`
// durations and selectors. Parsed strictly: unknown keys, bad durations and numbers
// are errors, all named at once. Durations are read by the exporter's own parser, so
// what the generator accepts is what the exporter's config accepts.
import { parse } from 'yaml';
import { parseDuration } from '../src/config/duration.js';

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const GROUPS = ['connectivity', 'dns', 'tls', 'http', 'registry', 'feed', 'exporter', 'sharding'] as const;
export type Group = (typeof GROUPS)[number];

type DurationKey = 'window' | 'stale_after' | 'memory' | 'keep_firing_for';
type NumberKey = 'quantile' | 'threshold_seconds' | 'warning_days' | 'critical_days';
type OptionKey = DurationKey | NumberKey;

interface AlertSpec {
  group: Group;
  /** The keys beside `for` and `severity` that the alert's block must have. */
  keys: readonly OptionKey[];
  /** Its severities are in the rules (two rules of one name), not in the config. */
  noSeverity?: true;
}

/** Every alert, its group, and the keys its config block must have. */
export const ALERTS = {
  EgressHostUnreachable: { group: 'connectivity', keys: [] },
  EgressHostAddressesPartiallyUnreachable: { group: 'connectivity', keys: [] },
  EgressConnectLatencyHigh: { group: 'connectivity', keys: ['quantile', 'threshold_seconds', 'window'] },
  EgressProxyDenied: { group: 'connectivity', keys: [] },
  EgressProxyFailing: { group: 'connectivity', keys: [] },
  EgressBlockedHostReachable: { group: 'connectivity', keys: ['keep_firing_for'] },
  EgressDNSResolutionFailing: { group: 'dns', keys: [] },
  EgressDNSSinkholed: { group: 'dns', keys: [] },
  EgressDNSTTLBelowFirewallRefresh: { group: 'dns', keys: [] },
  EgressDNSAddressesOutsideAllowlist: { group: 'dns', keys: [] },
  EgressTLSRequirementNotMet: { group: 'tls', keys: [] },
  EgressTLSIntercepted: { group: 'tls', keys: [] },
  EgressTLSHandshakeFailing: { group: 'tls', keys: [] },
  EgressTLSCertificateInvalid: { group: 'tls', keys: [] },
  EgressTLSCertificateExpiringSoon: { group: 'tls', keys: ['warning_days', 'critical_days'], noSeverity: true },
  EgressHTTP2Downgraded: { group: 'http', keys: [] },
  EgressHTTPUnexpectedResponse: { group: 'http', keys: [] },
  EgressRegistryBlobHostBlocked: { group: 'registry', keys: [] },
  EgressRegistryPullFailing: { group: 'registry', keys: [] },
  EgressRegistryCredentialExpiring: { group: 'registry', keys: ['warning_days'] },
  EgressRegistryCredentialExpired: { group: 'registry', keys: [] },
  EgressHTTPRequestFailing: { group: 'http', keys: [] },
  EgressFeedListOverLimit: { group: 'feed', keys: [] },
  EgressProbesStale: { group: 'exporter', keys: ['stale_after'] },
  EgressExporterDown: { group: 'exporter', keys: ['memory'] },
  EgressExporterConfigReloadFailed: { group: 'exporter', keys: [] },
  EgressExporterEventLoopLagHigh: { group: 'exporter', keys: ['threshold_seconds'] },
  EgressProbeInternalError: { group: 'exporter', keys: [] },
  EgressExporterShardingMismatch: { group: 'sharding', keys: [] },
  EgressExporterTargetsUncovered: { group: 'sharding', keys: [] },
} as const satisfies Record<string, AlertSpec>;

export type AlertName = keyof typeof ALERTS;
export const ALERT_NAMES = Object.keys(ALERTS) as AlertName[];

/** An alert's block: `for`, `severity` unless its rules set it, and the keys its spec lists. */
export type AlertBlock<N extends AlertName> = { for: string } & ((typeof ALERTS)[N] extends { noSeverity: true } ? unknown : { severity: Severity }) & {
  [K in (typeof ALERTS)[N]['keys'][number]]: K extends DurationKey ? string : number;
};

export interface AlertsConfig {
  /** Extra label matchers added to every selector, e.g. `job="egress"`. */
  selector: string;
  exporter_job_regex: string;
  /** A regex of paths where interception is expected; empty: none. */
  interception_expected_paths: string;
  /** Labels that tell replicas of one vantage point apart (an HA pair, /probe beside /metrics): a page merges them. */
  replica_labels: string[];
  runbook_base_url: string;
  /** Labels that make one group of replicas for the sharding alerts, comma-separated. */
  shard_group_labels: string;
  alerts: { [N in AlertName]: AlertBlock<N> };
}

const STRING_KEYS = ['selector', 'exporter_job_regex', 'interception_expected_paths', 'runbook_base_url', 'shard_group_labels'] as const;
const TOP_KEYS: readonly string[] = [...STRING_KEYS, 'replica_labels', 'alerts'];
/** A Prometheus label name. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const DURATION_KEYS: readonly string[] = ['for', 'window', 'stale_after', 'memory', 'keep_firing_for'] satisfies ReadonlyArray<DurationKey | 'for'>;
const NUMBER_KEYS: readonly string[] = ['quantile', 'threshold_seconds', 'warning_days', 'critical_days'] satisfies readonly NumberKey[];

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Whether a text is a duration the exporter's config (and Prometheus) accepts: `5m`, `1h30m`, not `5s5m`. */
export const isDuration = (value: unknown): boolean => typeof value === 'string' && parseDuration(value) !== null;

/** Seconds in a duration that isDuration accepted. */
export function durationSeconds(text: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return ms / 1000;
}

/** Parses and checks the config; throws one error naming every problem. */
export function loadConfig(text: string): AlertsConfig {
  const raw: unknown = parse(text);
  if (!isRecord(raw)) throw new Error('alerts config:\n  expected a mapping');
  const problems: string[] = [];
  for (const key of Object.keys(raw)) if (!TOP_KEYS.includes(key)) problems.push(`${key}: unknown key`);
  for (const key of STRING_KEYS) if (typeof raw[key] !== 'string') problems.push(`${key}: expected a string`);
  const replicaLabels = raw.replica_labels;
  if (!Array.isArray(replicaLabels) || replicaLabels.length === 0 || !replicaLabels.every((l) => typeof l === 'string' && LABEL_NAME.test(l))) {
    problems.push(`replica_labels: expected a list of label names such as [instance, job, pod], got ${JSON.stringify(replicaLabels)}`);
  }
  const groupProblem = typeof raw.shard_group_labels === 'string' ? shardGroupLabelsProblem(raw.shard_group_labels) : undefined;
  if (groupProblem !== undefined) problems.push(groupProblem);
  const alerts = isRecord(raw.alerts) ? raw.alerts : {};
  for (const name of Object.keys(alerts)) if (!(name in ALERTS)) problems.push(`alerts.${name}: unknown alert`);
  for (const name of ALERT_NAMES) {
    const spec: AlertSpec = ALERTS[name];
    const block = alerts[name];
    if (!isRecord(block)) {
      problems.push(`alerts.${name}: missing`);
      continue;
    }
    const allowed: readonly string[] = ['for', ...(spec.noSeverity ? [] : ['severity']), ...spec.keys];
    for (const key of Object.keys(block)) if (!allowed.includes(key)) problems.push(`alerts.${name}.${key}: unknown key`);
    for (const key of allowed) if (block[key] === undefined) problems.push(`alerts.${name}.${key}: missing`);
    if (!spec.noSeverity && block.severity !== undefined && !(SEVERITIES as readonly unknown[]).includes(block.severity)) {
      problems.push(`alerts.${name}.severity: expected one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(block.severity)}`);
    }
    for (const key of DURATION_KEYS) {
      if (block[key] !== undefined && !isDuration(block[key])) {
        problems.push(`alerts.${name}.${key}: expected a duration such as 5m, got ${JSON.stringify(block[key])}`);
      }
    }
    for (const key of NUMBER_KEYS) {
      const value = block[key];
      if (value !== undefined && !(typeof value === 'number' && value > 0)) problems.push(`alerts.${name}.${key}: expected a positive number, got ${JSON.stringify(value)}`);
    }
    if (typeof block.quantile === 'number' && !(block.quantile < 1)) problems.push(`alerts.${name}.quantile: must be below 1`);
  }
  if (problems.length > 0) throw new Error(`alerts config:\n  ${problems.join('\n  ')}`);
  return raw as unknown as AlertsConfig;
}

/** The labels that make one group of replicas: `shard_group_labels`, split. */
export function shardGroupLabels(config: Pick<AlertsConfig, 'shard_group_labels'>): string[] {
  return config.shard_group_labels
    .split(',')
    .map((label) => label.trim())
    .filter((label) => label !== '');
}

/** Why `shard_group_labels` cannot group replicas, or undefined when it can. */
export function shardGroupLabelsProblem(value: string): string | undefined {
  const labels = shardGroupLabels({ shard_group_labels: value });
  if (labels.length === 0 || !labels.every((label) => /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label))) {
    return `shard_group_labels: expected label names separated by commas, such as "job, egress_zone", got ${JSON.stringify(value)}`;
  }
  const apart = labels.filter((label) => ['instance', 'pod', 'shard'].includes(label));
  if (apart.length > 0) return `shard_group_labels: ${apart.join(', ')} would put every replica in a group of its own`;
  return undefined;
}
