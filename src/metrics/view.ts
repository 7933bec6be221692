// /metrics as a view of the result store. Each target's series are rendered
// when its round arrives (TargetSeries); a scrape concatenates them family by
// family and yields to the event loop between families, so serialisation never
// holds up the timers and sockets of the probes running beside it.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import type { Config } from '../config/types.js';
import type { Target } from '../model/types.js';
import { targetKey } from '../scheduler/report.js';
import type { RoundReport } from '../scheduler/report.js';
import type { ResultListener, ResultStore, TargetState } from '../scheduler/results.js';
import { Allowlist } from './allowlist.js';
import { HistogramData, header, sampleLine } from './exposition.js';
import { F, HISTOGRAM_NAMES, HISTOGRAMS, TARGET_FAMILIES } from './families.js';
import type { FamilyId, HistogramName } from './families.js';
import type { StallMonitor } from './stall-monitor.js';
import { TargetSeries } from './target-series.js';
import type { SeriesOptions } from './target-series.js';

export interface PathInfo {
  name: string;
  /** The proxy URL, password redacted; '' for direct. */
  proxy: string;
  expectInterception: boolean;
}

/** A scrape yields at least this often (ms of work between yields). */
const SLICE_MS = 2;
/** Targets' text joined before the clock is looked at. */
const BATCH = 64;

export function seriesOptionsFrom(config: Config): SeriesOptions {
  return {
    intervalMs: config.intervalMs,
    firewallRefreshIntervalMs: config.dns.firewallRefreshIntervalMs,
    allowlist: new Allowlist(config.dns.allowlistCidrs),
    histograms: new Set(config.metrics.histograms),
    buckets: config.metrics.buckets,
  };
}

export class MetricsView implements ResultListener {
  private readonly series = new Map<string, TargetSeries>();
  /** Per proxy path, across targets. */
  private readonly proxyConnect = new Map<string, HistogramData>();
  private options: SeriesOptions;
  private paths: readonly PathInfo[] = [];

  constructor(
    private readonly store: ResultStore,
    config: Config,
    /** prom-client's own: process metrics, build info, reload state. */
    private readonly registry: Registry,
    private readonly stalls?: StallMonitor,
  ) {
    this.options = seriesOptionsFrom(config);
    store.listen(this);
  }

  /** A reload: new options, paths and targets; cumulative series of what stays keep counting. */
  configure(config: Config, paths: readonly PathInfo[]): void {
    this.options = seriesOptionsFrom(config);
    this.paths = paths;
    const names = new Set(paths.map((p) => p.name));
    for (const name of this.proxyConnect.keys()) if (!names.has(name)) this.proxyConnect.delete(name);
    for (const state of this.store.all()) this.targetSet(state);
  }

  targetSet(state: TargetState): void {
    const key = targetKey(state.target);
    const series = this.series.get(key) ?? new TargetSeries(state.target);
    this.series.set(key, series);
    series.retarget(state.target, state.report, this.options);
  }

  reported(state: TargetState): void {
    const report = state.report;
    if (report === undefined) return;
    this.series.get(targetKey(state.target))?.observe(report, this.options);
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
  }

  overrun(target: Target): void {
    this.series.get(targetKey(target))?.overrun(this.store.get(target)?.report, this.options);
  }

  /** The exposition, in chunks; the event loop runs between them. */
  async *chunks(): AsyncGenerator<string> {
    const rendered = [...this.series.values()].map((s) => s.rendered);
    let slice = performance.now();
    for (const id of TARGET_FAMILIES) {
      // Every family the exporter can have is declared, even with no series now (no failure, say).
      let parts: string[] = this.declares(id) ? [header(F[id])] : [];
      let declared = parts.length > 0;
      for (let i = 0; i < rendered.length; i += 1) {
        const text = rendered[i]?.get(id);
        if (text === undefined) continue;
        if (!declared) {
          parts.push(header(F[id]));
          declared = true;
        }
        parts.push(text);
        // A large family goes out in pieces, each a bounded slice of work.
        if (parts.length >= BATCH && performance.now() - slice > SLICE_MS) {
          yield parts.join('');
          parts = [];
          await yieldToLoop();
          slice = performance.now();
        }
      }
      if (parts.length > 0) yield parts.join('');
      if (performance.now() - slice > SLICE_MS) {
        await yieldToLoop();
        slice = performance.now();
      }
    }
    let global = '';
    if (this.proxyConnect.size > 0) {
      global += header(F.proxyConnect);
      for (const [path, histogram] of this.proxyConnect) global += histogram.lines(F.proxyConnect.name, { path });
    }
    if (this.paths.length > 0) {
      global += header(F.pathInfo);
      for (const p of this.paths) global += sampleLine(F.pathInfo.name, { path: p.name, proxy: p.proxy, expect_interception: String(p.expectInterception) }, 1);
    }
    global += header(F.refreshInterval) + sampleLine(F.refreshInterval.name, {}, (this.options.firewallRefreshIntervalMs ?? 0) / 1000);
    if (this.stalls) global += this.stalls.render();
    yield global;
    yield await this.registry.metrics();
  }

  /** Histograms are declared only when turned on. */
  private declares(id: FamilyId): boolean {
    if (F[id].type !== 'histogram') return true;
    return this.options.histograms.has(HISTOGRAM_NAMES.find((name) => HISTOGRAMS[name] === id) ?? ('' as HistogramName));
  }

  async text(): Promise<string> {
    let out = '';
    for await (const chunk of this.chunks()) out += chunk;
    return out;
  }
}

/** One round's series on their own, for /probe: the same families a scrape would show. */
export function renderRound(report: RoundReport, config: Config): string {
  const series = new TargetSeries(report.target);
  series.observe(report, seriesOptionsFrom(config));
  let out = '';
  for (const id of TARGET_FAMILIES) {
    const text = series.rendered.get(id);
    if (text !== undefined) out += header(F[id]) + text;
  }
  return out;
}
