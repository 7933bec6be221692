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
