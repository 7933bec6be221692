// The registry and the exporter's own metrics (process, event loop, build, reloads, shard).
import { createHash } from 'node:crypto';
import client from 'prom-client';
import type { Shard } from '../shard/assignment.js';

export interface BuildInfo {
  version: string;
  revision: string;
}

export function createRegistry(build: BuildInfo): client.Registry {
  const registry = new client.Registry();
  // Event-loop delay matters here: a blocked loop inflates every measured latency.
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const info = new client.Gauge({
    name: 'egress_exporter_build_info',
    help: 'A metric with a constant 1 value labeled by version, revision and Node.js version of egress-exporter.',
    labelNames: ['version', 'revision', 'nodejs'],
    registers: [registry],
  });
  info.set({ version: build.version, revision: build.revision, nodejs: process.version }, 1);
  return registry;
}

/**
 * The running config as a number, as Alertmanager's `alertmanager_config_hash`: replicas with
 * the same effective config (defaults applied, comments and layout aside) read the same value,
 * and a reload that changed nothing leaves it as it was. 48 bits of its SHA-256: an exact float.
 */
function configHash(effectiveConfig: string): number {
  return parseInt(createHash('sha256').update(effectiveConfig).digest('hex').slice(0, 12), 16);
}

export interface ReloadMetrics {
  /**
   * A config is running (start-up counts), loaded at `atMs`. `effectiveConfig` is as
   * `--config.check` prints it, secrets redacted: the hash must say nothing of them.
   */
  loaded(effectiveConfig: string, atMs: number): void;
  /** A reload failed; the running config stays, and so does its hash. */
  failed(): void;
}

/** Prometheus's own names for the same facts, so the same alerts read them. */
export function createReloadMetrics(registry: client.Registry): ReloadMetrics {
  const successful = new client.Gauge({
    name: 'egress_exporter_config_last_reload_successful',
    help: 'Whether the last configuration reload attempt was successful.',
    registers: [registry],
  });
  const timestamp = new client.Gauge({
    name: 'egress_exporter_config_last_reload_success_timestamp_seconds',
    help: 'Timestamp of the last successful configuration load (start-up counts).',
    registers: [registry],
  });
  const hash = new client.Gauge({
    name: 'egress_exporter_config_hash',
    help: 'Hash of the running configuration (the effective config, defaults applied); equal on replicas with the same config.',
    registers: [registry],
  });
  return {
    loaded(effectiveConfig, atMs) {
      successful.set(1);
      timestamp.set(atMs / 1000);
      hash.set(configHash(effectiveConfig));
    },
    failed() {
      successful.set(0);
    },
  };
}

/** The shard families' names: the sharding alerts (alerts/sharding-rules.ts) read them from here. */
export const SHARD_FAMILIES = {
  ordinal: 'egress_exporter_shard_ordinal',
  total: 'egress_exporter_total_shards',
  owned: 'egress_exporter_targets_owned',
  configured: 'egress_exporter_targets_configured',
} as const;

export interface ShardMetrics {
  /** The config in force has `configured` targets, `owned` of them this replica's. */
  targets(configured: number, owned: number): void;
}

/**
 * Which shard this replica is and what it owns, as kube-state-metrics says it: the
 * coverage alerts add up `owned` once per shard (the `shard` label; two replicas of a
 * shard are an HA pair) and compare it with `configured`. Unsharded: shard 0 of 1.
 */
export function createShardMetrics(registry: client.Registry, shard: Shard | null): ShardMetrics {
  const { ordinal, total } = shard ?? { ordinal: 0, total: 1 };
  const labels = { shard: String(ordinal) };
  new client.Gauge({
    name: SHARD_FAMILIES.ordinal,
    help: 'The shard this replica is (also its shard label): it probes the targets that rendezvous hashing of host:port gives it. 0 when unsharded.',
    labelNames: ['shard'],
    registers: [registry],
  }).set(labels, ordinal);
  new client.Gauge({
    name: SHARD_FAMILIES.total,
    help: 'How many shards this replica believes split the targets (--total-shards; 1 when unsharded). Every replica of a job and zone must say the same.',
    registers: [registry],
  }).set(total);
  const owned = new client.Gauge({
    name: SHARD_FAMILIES.owned,
    help: "Targets this replica schedules: its shard's share of egress_exporter_targets_configured.",
    labelNames: ['shard'],
    registers: [registry],
  });
  const configured = new client.Gauge({
    name: SHARD_FAMILIES.configured,
    help: 'Targets of the config and its catalog, every shard together.',
    registers: [registry],
  });
  return {
    targets(configuredCount, ownedCount) {
      configured.set(configuredCount);
      owned.set(labels, ownedCount);
    },
  };
}
