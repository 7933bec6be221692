// /metrics as a view of the result store. Each target's series are rendered
// when its round arrives (TargetSeries); a scrape has them concatenated family by
// family on a worker thread (ScrapeAssembler), so serialisation and gzip never hold
// up the timers and sockets of the probes running beside it.
import type { Registry } from 'prom-client';
import type { Config } from '../config/types.js';
import { targetKey } from '../checks/report.js';
import type { RoundReport } from '../checks/report.js';
import type { ResultListener, ResultStore, TargetState } from '../state/result-store.js';
import { roundOk } from '../checks/judge.js';
import { HistogramData, header, sampleLine } from './exposition.js';
import type { FamilyDef } from './exposition.js';
import { HISTOGRAM_NAMES } from '../model/histograms.js';
import type { HistogramName } from '../model/histograms.js';
import { F, HISTOGRAMS, TARGET_FAMILIES } from './families.js';
import type { FamilyId } from './families.js';
import { ScrapeAssembler } from './scrape-assembler.js';
import type { StallMonitor } from './stall-monitor.js';
import { TargetSeries } from './target-series.js';
import type { RenderedFamilies, SeriesOptions } from './target-series.js';

export interface PathInfo {
  name: string;
  /** The proxy URL, password redacted; '' for direct. */
  proxy: string;
  expectInterception: boolean;
}

export function seriesOptionsFrom(config: Config): SeriesOptions {
  return { histograms: new Set(config.metrics.histograms), buckets: config.metrics.buckets };
}

export class MetricsView implements ResultListener {
  private readonly series = new Map<string, TargetSeries>();
  private readonly assembler = new ScrapeAssembler(
    TARGET_FAMILIES.map((id) => [id, header(F[id])] as const),
    () => this.renderAll(),
  );
  /** Per proxy path, across targets. */
  private readonly proxyConnect = new Map<string, HistogramData>();
  private options: SeriesOptions;
  /** dns.firewall_refresh_interval, for its own series; null when unset. */
  private refreshMs: number | null;
  private paths: readonly PathInfo[] = [];
  /** Series of other views (the address feed), rendered at each scrape after the paths'. */
  private readonly tails: Array<() => string> = [];

  constructor(
    private readonly store: ResultStore,
    config: Config,
    /** prom-client's own: process metrics, build info, reload state. */
    private readonly registry: Registry,
    private readonly stalls?: StallMonitor,
  ) {
    this.options = seriesOptionsFrom(config);
    this.refreshMs = config.dns.firewallRefreshIntervalMs;
    store.listen(this);
  }

  /** A reload: new options, paths and targets; cumulative series of what stays keep counting. */
  configure(config: Config, paths: readonly PathInfo[]): void {
    this.options = seriesOptionsFrom(config);
    this.refreshMs = config.dns.firewallRefreshIntervalMs;
    this.paths = paths;
    const names = new Set(paths.map((p) => p.name));
    for (const name of this.proxyConnect.keys()) if (!names.has(name)) this.proxyConnect.delete(name);
    for (const state of this.store.all()) this.targetSet(state);
  }

  targetSet(state: TargetState): void {
    const key = targetKey(state.target);
    const series = this.series.get(key) ?? new TargetSeries(state.target);
    this.series.set(key, series);
    this.assembler.set(key, series.retarget(state.target, state.overruns, state.report), series.ownLabels);
  }

  reported(state: TargetState): void {
    const report = state.report;
    if (report === undefined) return;
    const key = targetKey(state.target);
    const series = this.series.get(key);
    if (series !== undefined) {
      this.assembler.set(key, series.observe(report, this.options), series.ownLabels);
    }
    for (const entry of report.paths) {
      const seconds = entry.tcp?.proxyConnectSeconds;
      if (seconds === undefined || entry.path.proxy === null) continue;
      let histogram = this.proxyConnect.get(entry.path.name);
      if (!histogram) {
        histogram = new HistogramData(this.options.buckets);
        this.proxyConnect.set(entry.path.name, histogram);
      }
      histogram.observe(seconds);
    }
  }

  removed(key: string): void {
    this.series.delete(key);
    this.assembler.delete(key);
  }

  overran(state: TargetState): void {
    const key = targetKey(state.target);
    const series = this.series.get(key);
    if (series !== undefined) this.assembler.set(key, series.overrun(state.overruns, state.report), series.ownLabels);
  }

  /** The exposition, gzipped when asked; put together off this thread. */
  async body(gzip: boolean): Promise<Buffer> {
    const declared = TARGET_FAMILIES.filter((id) => this.declares(id));
    return this.assembler.body(declared, await this.tail(), gzip);
  }

  async text(): Promise<string> {
    return (await this.body(false)).toString('utf8');
  }

  /** Adds series rendered at each scrape, beside the paths' and the exporter's own. */
  addTail(render: () => string): void {
    this.tails.push(render);
  }

  /** Stops the worker thread; a scrape still waiting fails. */
  close(): Promise<void> {
    return this.assembler.close();
  }

  /** Every target's families as they are now: what a new scrape worker is given. */
  private *renderAll(): Iterable<readonly [string, RenderedFamilies, string]> {
    for (const state of this.store.all()) {
      const key = targetKey(state.target);
      const series = this.series.get(key);
      if (series !== undefined) yield [key, series.retarget(state.target, state.overruns, state.report), series.ownLabels];
    }
  }

  /** The series that are not any one target's: proxies, paths, the exporter itself. */
  private async tail(): Promise<string> {
    let global = '';
    if (this.proxyConnect.size > 0) {
      global += header(F.proxyConnect);
      for (const [path, histogram] of this.proxyConnect) global += histogram.lines(F.proxyConnect.name, { path });
    }
    if (this.paths.length > 0) {
      global += header(F.pathInfo);
      for (const p of this.paths) global += sampleLine(F.pathInfo.name, { path: p.name, proxy: p.proxy, expect_interception: String(p.expectInterception) }, 1);
    }
    global += header(F.refreshInterval) + sampleLine(F.refreshInterval.name, {}, (this.refreshMs ?? 0) / 1000);
    for (const render of this.tails) global += render();
    if (this.stalls) global += this.stalls.render();
    return global + (await this.registry.metrics());
  }

  /** Histograms are declared only when turned on. */
  private declares(id: FamilyId): boolean {
    if (F[id].type !== 'histogram') return true;
    return this.options.histograms.has(HISTOGRAM_NAMES.find((name) => HISTOGRAMS[name] === id) ?? ('' as HistogramName));
  }
}

/**
 * What a blackbox_exporter user keys dashboards and alerts on, answered by /probe alone:
 * one verdict for the target and how long it took. No labels: Prometheus gives the scrape
 * its `instance` (the target, with the __param_target relabelling) and `job`.
 */
export const PROBE_SUCCESS: FamilyDef = {
  name: 'probe_success',
  help: "1 when every check of the target succeeded in this round (each path's and, where its clients resolve the name, each resolver's), else 0: the verdict of the check command and the status page.",
  type: 'gauge',
};
export const PROBE_DURATION: FamilyDef = {
  name: 'probe_duration_seconds',
  help: 'How long the round of every check of the target took, in seconds.',
  type: 'gauge',
};

/**
 * One round's series on their own, for /probe: the same families a scrape would show,
 * then blackbox_exporter's probe_success (the judged round's one verdict, roundOk) and
 * probe_duration_seconds.
 */
export function renderRound(report: RoundReport, config: Config): string {
  const rendered = new TargetSeries(report.target).observe(report, seriesOptionsFrom(config));
  let out = '';
  for (const id of TARGET_FAMILIES) {
    const text = rendered.get(id);
    if (text !== undefined) out += header(F[id]) + text;
  }
  out += header(PROBE_SUCCESS) + sampleLine(PROBE_SUCCESS.name, {}, roundOk(report) ? 1 : 0);
  out += header(PROBE_DURATION) + sampleLine(PROBE_DURATION.name, {}, report.durationSeconds);
  return out;
}
