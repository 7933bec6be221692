// Wires config, metrics, scheduler and server into one running exporter.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { resolveTargets } from './config/targets.js';
import type { Config } from './config/types.js';
import type { Logger } from './logging/logger.js';
import { Recorder } from './metrics/recorder.js';
import { createRegistry } from './metrics/registry.js';
import type { Target } from './probes/types.js';
import { DEFAULT_PROBES } from './scheduler/round.js';
import type { ProbeSet } from './scheduler/round.js';
import { ResultStore } from './scheduler/results.js';
import { Scheduler } from './scheduler/scheduler.js';
import { Semaphore } from './scheduler/semaphore.js';
import { createApp } from './server/app.js';
import type { ListenAddress } from './server/listen-address.js';
import { REVISION, VERSION } from './version.js';

export interface ExporterOptions {
  config: Config;
  listen: ListenAddress;
  logger: Logger;
  probes?: Partial<ProbeSet>;
}

export interface Exporter {
  config: Config;
  targets: readonly Target[];
  registry: Registry;
  scheduler: Scheduler;
  results: ResultStore;
  /** The bound address, e.g. for a test that listened on port 0. */
  address: AddressInfo;
  stop(): Promise<void>;
}

function listen(server: Server, address: ListenAddress): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(address.port, address.host, () => {
      server.removeListener('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startExporter(options: ExporterOptions): Promise<Exporter> {
  const { config, logger } = options;
  const targets = resolveTargets(config);
  const registry = createRegistry({ version: VERSION, revision: REVISION });
  const recorder = new Recorder(registry, {
    intervalMs: config.intervalMs,
    firewallRefreshIntervalMs: config.dns.firewallRefreshIntervalMs,
    allowlistCidrs: config.dns.allowlistCidrs,
  });
  recorder.setTargets(targets);
  const results = new ResultStore();
  const scheduler = new Scheduler({
    targets,
    context: {
      config,
      recorder,
      results,
      limiter: new Semaphore(config.concurrency),
      logger,
      probes: { ...DEFAULT_PROBES, ...options.probes },
      caPem: config.tls.caFile === null ? [] : [await readFile(config.tls.caFile, 'utf8')],
    },
  });

  const app = createApp({ registry, results, targets: () => targets, ready: () => scheduler.ready, version: VERSION });
  // node:http directly: express's listen() cannot report EADDRINUSE as a rejection.
  const http = createServer(app);
  // Keep-alive sockets from scrapers must not hold shutdown open.
  http.keepAliveTimeout = 5000;
  const address = await listen(http, options.listen);
  logger.info({ address: `${address.address}:${address.port}`, targets: targets.length, catalog: config.catalog, version: VERSION }, 'egress-exporter listening');

  scheduler.start();
  void scheduler.firstRound.then(() => logger.info({ targets: targets.length }, 'first round finished: ready'));

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await scheduler.stop();
      await closed;
    })();
    return stopping;
  };

  return { config, targets, registry, scheduler, results, address, stop };
}
