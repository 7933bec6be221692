// The registry and the exporter's own metrics (process, event loop, build).
import client from 'prom-client';

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

/** Prometheus's own names for the same facts, so the same alerts read them. */
export function createReloadMetrics(registry: client.Registry): { successful: client.Gauge; timestamp: client.Gauge } {
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
  successful.set(1);
  timestamp.set(Date.now() / 1000);
  return { successful, timestamp };
}
