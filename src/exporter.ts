// Wires config, metrics, scheduler and server into one running exporter, and
// swaps in a new config on reload only once it has parsed and validated.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProbeSet } from './checks/context.js';
import { pathsFor } from './checks/paths.js';
import { ConfigError, defaultConfig, loadConfigFile } from './config/load.js';
import { renderConfig } from './config/render.js';
import { resolveTargets } from './config/targets.js';
import { readTrust } from './config/trust.js';
import type { Trust } from './config/trust.js';
import type { Config } from './config/types.js';
import { AddressFeed } from './feed/address-feed.js';
import type { StateStorage } from './feed/state-storage.js';
import { hostPort } from './host-port.js';
import type { Logger } from './logging/logger.js';
import { renderFeedSeries } from './metrics/feed-series.js';
import { createRegistry, createReloadMetrics, createShardMetrics } from './metrics/registry.js';
import type { ReloadMetrics, ShardMetrics } from './metrics/registry.js';
import { StallMonitor } from './metrics/stall-monitor.js';
import { MetricsView } from './metrics/view.js';
import type { PathInfo } from './metrics/view.js';
import type { Target } from './model/types.js';
import { proxyFromEnv } from './probes/net/no-proxy.js';
import { redactProxyUrl } from './probes/net/proxy.js';
import { Scheduler } from './scheduler/scheduler.js';
import { ownedTargets } from './shard/assignment.js';
import type { Shard } from './shard/assignment.js';
import { createApp, UNAUTHENTICATED_PATHS } from './server/app.js';
import type { ListenAddress } from './server/listen-address.js';
import { WebConfigError } from './server/web-config.js';
import type { WebConfig } from './server/web-config.js';
import { WebServer } from './server/web-server.js';
import { PathHealth } from './checks/path-health.js';
import { ResultStore } from './state/result-store.js';
import { REVISION, VERSION } from './version.js';

export interface ExporterOptions {
  config: Config;
  /** Where the config came from; reload reads it again. Absent: built-in defaults. */
  configFile?: string;
  listen: ListenAddress;
  logger: Logger;
  probes?: Partial<ProbeSet>;
  /** --web.config.file: TLS and basic auth for the endpoints. */
  web?: WebConfig | null;
  /** --shard/--total-shards: this replica schedules only its shard's targets; null or absent: all. */
  shard?: Shard | null;
  /** --storage.path, opened: where the address feed's state is kept. Absent: in memory only. */
  storage?: StateStorage | null;
}

export interface ReloadOutcome {
  ok: boolean;
  /** The problems, one a line, when !ok. */
  error?: string;
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

export class Exporter {
  readonly results = new ResultStore();
  /** What each path reaches lately, for paths that must stay blocked (checks/expectation.ts): one across reloads, read by /probe too. */
  private readonly pathHealth = new PathHealth();
  readonly metrics: MetricsView;
  private readonly stalls = new StallMonitor();
  private readonly reloadMetrics: ReloadMetrics;
  private readonly shardMetrics: ShardMetrics;
  /** The server and the web config in force; reload reads that again too. */
  private readonly web: WebServer;
  /** `targets`: all of the config (/probe takes any); `owned`: this shard's, the ones scheduled. */
  private current: { config: Config; targets: Target[]; owned: Target[]; scheduler: Scheduler; trust: Trust };
  private server: Server | undefined;
  private boundAddress: AddressInfo | undefined;
  private reloading: Promise<ReloadOutcome> | undefined;
  private reloadAgain: Promise<ReloadOutcome> | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly options: ExporterOptions,
    config: Config,
    trust: Trust,
    /** /addresses: a view of the results, as the metrics are. */
    private readonly feed: AddressFeed,
  ) {
    const registry = createRegistry({ version: VERSION, revision: REVISION });
    this.reloadMetrics = createReloadMetrics(registry);
    this.reloadMetrics.loaded(renderConfig(config, { redactSecrets: true }), Date.now());
    this.shardMetrics = createShardMetrics(registry, options.shard ?? null);
    this.metrics = new MetricsView(this.results, config, registry, this.stalls);
    this.web = new WebServer(options.web ?? null, options.logger);
    const { targets, owned } = this.resolveTargets(config);
    this.results.setTargets(owned);
    this.metrics.configure(config, pathsInUse(config, owned));
    this.results.listen(feed);
    this.metrics.addTail(() => renderFeedSeries(feed.statistics()));
    this.current = { config, targets, owned, scheduler: this.createScheduler(config, owned, trust), trust };
  }

  static async start(options: ExporterOptions): Promise<Exporter> {
    const trust = await readTrust(options.config);
    // The feed lists what this replica resolves: its shard's targets (the store tells it of later changes).
    const shard = options.shard ?? null;
    const feed = await AddressFeed.open({
      config: options.config,
      targets: ownedTargets(resolveTargets(options.config), shard),
      storage: options.storage ?? null,
      logger: options.logger,
      ...(shard !== null && { shard: `shard ${shard.ordinal} of ${shard.total}` }),
    });
    const exporter = new Exporter(options, options.config, trust, feed);
    exporter.warnAboutEnvProxy(options.config);
    exporter.stalls.start();
    await exporter.listen();
    exporter.startScheduler();
    return exporter;
  }

  get config(): Config {
    return this.current.config;
  }

  get targets(): readonly Target[] {
    return this.current.targets;
  }

  get scheduler(): Scheduler {
    return this.current.scheduler;
  }

  /** The bound address, e.g. for a test that listened on port 0. */
  get address(): AddressInfo {
    if (!this.boundAddress) throw new Error('the exporter is not listening');
    return this.boundAddress;
  }

  private get logger(): Logger {
    return this.options.logger;
  }

  /** The config's targets, and this replica's shard of them (docs/sharding.md): the ones it schedules. */
  private resolveTargets(config: Config): { targets: Target[]; owned: Target[] } {
    const targets = resolveTargets(config);
    const owned = ownedTargets(targets, this.options.shard ?? null);
    this.shardMetrics.targets(targets.length, owned.length);
    return { targets, owned };
  }

  private createScheduler(config: Config, targets: Target[], trust: Trust): Scheduler {
    const setup = { config, trust, logger: this.logger, pathHealth: this.pathHealth, ...(this.options.probes !== undefined && { probes: this.options.probes }) };
    return new Scheduler({ targets, results: this.results, setup });
  }

  private async listen(): Promise<void> {
    const app = createApp({
      metrics: this.metrics,
      results: this.results,
      targets: () => this.targets,
      ready: () => this.ready,
      reload: () => this.reload(),
      probe: {
        current: () => ({ ...this.current, signal: this.current.scheduler.signal }),
        logger: this.logger,
        pathHealth: this.pathHealth,
        ...(this.options.probes !== undefined && { probes: this.options.probes }),
      },
      addresses: this.feed,
      version: VERSION,
      before: [this.web.auth(UNAUTHENTICATED_PATHS)],
    });
    // node:http(s) directly: express's listen() cannot report EADDRINUSE as a rejection.
    this.server = this.web.createServer(app);
    // Keep-alive sockets from scrapers must not hold shutdown open.
    this.server.keepAliveTimeout = 5000;
    this.boundAddress = await listen(this.server, this.options.listen);
    this.logger.info(
      { address: hostPort(this.boundAddress.address, this.boundAddress.port), targets: this.targets.length, ...this.shardLog(), catalog: this.config.catalog, version: VERSION },
      'egress-exporter listening',
    );
  }

  /** Sharded: which shard, and how many targets it schedules. */
  private shardLog(): { shard?: string; owned?: number } {
    const shard = this.options.shard;
    return shard == null ? {} : { shard: `${shard.ordinal} of ${shard.total}`, owned: this.current.owned.length };
  }

  /** Ready once the first round after start finished; a reload does not make it unready. */
  private everReady = false;
  get ready(): boolean {
    this.everReady ||= this.current.scheduler.ready;
    return this.everReady;
  }

  /** A proxy variable that gives no proxy would silently send everything direct. */
  private warnAboutEnvProxy(config: Config): void {
    if (config.proxy !== 'env' || config.proxies.length > 0) return;
    const { problem } = proxyFromEnv(process.env);
    if (problem !== undefined) this.logger.warn({ problem }, 'proxy: env gives no usable proxy: probing directly');
  }

  private startScheduler(): void {
    const { scheduler, owned } = this.current;
    scheduler.start();
    void scheduler.firstRound.then(() => {
      if (scheduler.signal.aborted) return;
      this.logger.info({ targets: owned.length }, 'round finished for every target');
    });
  }

  /**
   * Reads the config file again. A config that does not parse or validate
   * changes nothing: the old one keeps probing and serving.
   */
  reload(): Promise<ReloadOutcome> {
    // Asked for while one runs: that one may have read the file before it changed,
    // so run once more after it (further requests meanwhile join that run).
    if (this.reloading !== undefined) {
      this.reloadAgain ??= this.reloading.then(() => {
        this.reloadAgain = undefined;
        return this.stopping === undefined ? this.reload() : { ok: false, error: 'shutting down' };
      });
      return this.reloadAgain;
    }
    this.reloading = this.doReload().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async doReload(): Promise<ReloadOutcome> {
    const file = this.options.configFile;
    let config: Config;
    let trust: Trust;
    let applyWebConfig: () => void;
    try {
      config = file === undefined ? defaultConfig() : await loadConfigFile(file);
      trust = await readTrust(config);
      applyWebConfig = await this.web.prepareReload();
    } catch (error) {
      const message =
        error instanceof ConfigError || error instanceof WebConfigError ? error.message : `${file ?? 'config'}: ${error instanceof Error ? error.message : String(error)}`;
      this.reloadMetrics.failed();
      this.logger.error({ file, problems: message.split('\n') }, 'reload failed: keeping the running config');
      return { ok: false, error: message };
    }
    applyWebConfig();
    const old = this.current;
    await old.scheduler.stop();
    const { targets, owned } = this.resolveTargets(config);
    this.warnAboutEnvProxy(config);
    // Removed targets go at once; a check or path the new config no longer
    // runs goes with the target's next round, which replaces its report.
    this.results.setTargets(owned);
    this.metrics.configure(config, pathsInUse(config, owned));
    this.feed.configure(config);
    const reloadedAt = Date.now();
    this.current = { config, targets, owned, scheduler: this.createScheduler(config, owned, trust), trust };
    this.startScheduler();
    this.reloadMetrics.loaded(renderConfig(config, { redactSecrets: true }), reloadedAt);
    this.logger.info({ file, targets: targets.length, ...this.shardLog() }, 'config reloaded');
    return { ok: true };
  }

  /** Stops scheduling, aborts in-flight checks, closes the server. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const server = this.server;
      const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
      server?.closeAllConnections();
      await this.reloading;
      await this.current.scheduler.stop();
      // After the last round: the feed's final save holds everything it saw.
      await this.feed.close();
      this.stalls.stop();
      await this.metrics.close();
      await this.web.close();
      await closed;
    })();
    return this.stopping;
  }
}

/** Every path some target of this replica is probed over, for egress_path_info. */
function pathsInUse(config: Config, targets: readonly Target[]): PathInfo[] {
  const byName = new Map<string, PathInfo>();
  for (const target of targets) {
    for (const path of pathsFor(target, config)) {
      byName.set(path.name, { name: path.name, proxy: path.proxy === null ? '' : redactProxyUrl(path.proxy.url), expectInterception: path.expectInterception });
    }
  }
  return [...byName.values()];
}

export function startExporter(options: ExporterOptions): Promise<Exporter> {
  return Exporter.start(options);
}
