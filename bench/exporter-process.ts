// One exporter child process (`node dist/cli.js`) and what the bench reads of it from
// outside: /-/ready for its first rounds, /metrics as Prometheus scrapes it, /proc for CPU
// and memory. The single run and every replica of the sharded run are one of these.
import { join } from 'node:path';
import { SHARD_FAMILIES } from '../src/metrics/registry.js';
import { freePort, sleepUntil, waitUntilServing } from './clock.js';
import { cpuSeconds, memory, RssSampler } from './proc-stats.js';
import { spawnLogged, withoutProxyEnv } from './processes.js';
import type { Child } from './processes.js';
import { CONNECT_FAMILY, isStallFamily, QuietConnectTracker, StallTracker } from './readings.js';
import type { StallReading } from './readings.js';
import { pickFamilies, scrape, sumOf } from './scrape.js';
import type { Families, ScrapeResult } from './scrape.js';

export interface ExporterProcessOptions {
  /** Names its log: `100-all`, `100-shard-1-of-3`, ... */
  name: string;
  /** The run directory. */
  dir: string;
  /** The checkout whose dist/cli.js runs. */
  exporterDir: string;
  configFile: string;
  /** Node flags before the script. */
  nodeFlags: readonly string[];
  /** Flags after --config.file and --web.listen-address (--shard ...). */
  args?: readonly string[];
  quietHosts: readonly string[];
  scrapeEveryMs: number;
  /** A fork-style IPC channel (the memory probe answers over it). */
  ipc?: boolean;
}

/** What one process did in the measured window. */
export interface ProcessWindow {
  cpuSeconds: number;
  peakRssBytes: number;
  /** VmRSS at the end of the window. */
  rssAtEndBytes: number;
  /** The largest VmRSS read (every second) before the window, and in it. */
  rssPeakBeforeBytes: number;
  rssPeakInWindowBytes: number;
  /** From serving to every target's first round done (/-/ready). */
  firstRoundSeconds: number;
  /** Increase of egress_probe_runs_total over the window; undefined when not exported. */
  checks?: number;
  /** Increase of egress_exporter_round_duration_seconds_count; undefined when not exported. */
  rounds?: number;
  /** Scrapes in the window (gzip accepted). */
  windowScrapes: ScrapeResult[];
  /** The last scheduled scrape's size, decompressed. */
  plainBytes: number;
  stall: StallReading[];
  /** Quiet hosts' connect times in the window, seconds. */
  quietConnects: number[];
  /** The connect family's type in this build (histogram, gauge, ...). */
  connectType: string;
  /** egress_exporter_targets_owned and _configured at the end; undefined when not exported. */
  targetsOwned?: number;
  targetsConfigured?: number;
}

const wanted = (name: string): boolean =>
  name === CONNECT_FAMILY ||
  name === 'egress_probe_runs_total' ||
  name === 'egress_exporter_round_duration_seconds' ||
  name === 'egress_exporter_rounds_total' ||
  name === 'egress_probe_success' ||
  name === SHARD_FAMILIES.owned ||
  name === SHARD_FAMILIES.configured ||
  isStallFamily(name);

// Rounds: egress_exporter_rounds_total where the build has it, else the round histogram's count.
const roundsOf = (families: Families): number | undefined =>
  sumOf(families, 'egress_exporter_rounds_total') ??
  (families.types.get('egress_exporter_round_duration_seconds') === 'histogram' ? sumOf(families, 'egress_exporter_round_duration_seconds_count') : undefined);

// Checks: egress_probe_runs_total where the build has it, else rounds x checks per round.
function checksOf(families: Families): number | undefined {
  const runs = sumOf(families, 'egress_probe_runs_total');
  if (runs !== undefined) return runs;
  const rounds = sumOf(families, 'egress_exporter_rounds_total');
  const hosts = families.samples.filter((s) => s.name === 'egress_exporter_rounds_total').length;
  const checks = families.samples.filter((s) => s.name === 'egress_probe_success').length;
  return rounds === undefined || hosts === 0 ? undefined : (rounds * checks) / hosts;
}

const increase = (from: number | undefined, to: number | undefined): number | undefined => (from === undefined || to === undefined ? undefined : to - from);

export class ExporterProcess {
  /** Date.now() when it started serving: its schedule starts there (interval k is [ready + k I, ready + (k+1) I)). */
  readonly ready: number;
  /** Date.now() once every target's first round was done (/-/ready); undefined until then. */
  firstRoundDoneAt: number | undefined;
  /** Resolves once the first rounds are done, or the process ended. */
  readonly firstRoundDone: Promise<void>;

  private exitedHow: string | undefined;
  private readonly rss: RssSampler;
  private readonly quiet: QuietConnectTracker;
  private readonly stall = new StallTracker();
  private readonly windowScrapes: ScrapeResult[] = [];
  private readonly quietConnects: number[] = [];
  private connectType = 'absent';
  private plainBytes = 0;
  private readonly scrapeTimeoutMs: number;
  private cpuAtStart = NaN;
  private first: Families | undefined;
  private last: Families | undefined;

  private constructor(
    readonly name: string,
    readonly child: Child,
    /** http://127.0.0.1:<port> */
    readonly base: string,
    private readonly logFile: string,
    o: ExporterProcessOptions,
  ) {
    void child.exited.then((how) => (this.exitedHow = how));
    this.ready = Date.now();
    this.rss = new RssSampler(child.pid);
    this.quiet = new QuietConnectTracker(new Set(o.quietHosts));
    this.scrapeTimeoutMs = Math.max(o.scrapeEveryMs, 10_000);
    this.firstRoundDone = this.pollReady();
  }

  /** Starts the exporter on a free loopback port and resolves once it serves /-/healthy. */
  static async start(o: ExporterProcessOptions): Promise<ExporterProcess> {
    const port = await freePort();
    const logFile = join(o.dir, `${o.name}.log`);
    const child = spawnLogged(
      `exporter (${o.name})`,
      process.execPath,
      [...o.nodeFlags, join(o.exporterDir, 'dist/cli.js'), '--config.file', o.configFile, '--web.listen-address', `127.0.0.1:${port}`, ...(o.args ?? [])],
      logFile,
      withoutProxyEnv(),
      o.ipc ?? false,
    );
    let exitedHow: string | undefined;
    void child.exited.then((how) => (exitedHow = how));
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitUntilServing(`${base}/-/healthy`, 60_000, () => (exitedHow === undefined ? undefined : `the exporter (${o.name}) ended (${exitedHow})`));
    } catch (error) {
      await child.stop();
      throw error;
    }
    return new ExporterProcess(o.name, child, base, logFile, o);
  }

  get firstRoundSeconds(): number | undefined {
    return this.firstRoundDoneAt === undefined ? undefined : (this.firstRoundDoneAt - this.ready) / 1000;
  }

  /** Throws when the process has ended: a run must not measure a dead exporter. */
  alive(): void {
    if (this.exitedHow !== undefined) throw new Error(`the exporter (${this.name}) ended (${this.exitedHow}); see ${this.logFile}`);
  }

  /**
   * A scheduled scrape, gzip accepted, read for what the bench follows. `window`: it counts
   * in the window (the first one gives the counters' start values); `closing`: the counters'
   * end values, after the window.
   */
  async readScrape(phase: 'warm-up' | 'window' | 'closing'): Promise<void> {
    this.alive();
    const result = await scrape(`${this.base}/metrics`, { gzip: true, keepText: true, timeoutMs: this.scrapeTimeoutMs });
    const text = result.text ?? '';
    delete result.text;
    this.plainBytes = Buffer.byteLength(text);
    const families = pickFamilies(text, wanted);
    this.connectType = families.types.get(CONNECT_FAMILY) ?? this.connectType;
    const samples = this.quiet.next(families);
    if (phase === 'window') {
      this.first ??= families;
      this.windowScrapes.push(result);
      this.quietConnects.push(...samples);
      this.stall.next(families);
    }
    if (phase === 'closing') this.last = families;
  }

  /** The window starts: CPU and RSS from here on count. */
  openWindow(): void {
    this.alive();
    this.rss.mark();
    this.cpuAtStart = cpuSeconds(this.child.pid);
  }

  /** The window ends: CPU and memory as they are now (the closing scrape comes after). */
  closeWindow(): Omit<ProcessWindow, 'checks' | 'rounds' | 'windowScrapes' | 'plainBytes' | 'stall' | 'quietConnects' | 'connectType' | 'targetsOwned' | 'targetsConfigured'> {
    this.alive();
    const cpu = cpuSeconds(this.child.pid) - this.cpuAtStart;
    const { peakRssBytes, rssBytes } = memory(this.child.pid);
    const peaks = this.rss.stop();
    return {
      cpuSeconds: cpu,
      peakRssBytes,
      rssAtEndBytes: rssBytes,
      rssPeakBeforeBytes: peaks.before,
      rssPeakInWindowBytes: peaks.inWindow,
      firstRoundSeconds: this.firstRoundSeconds ?? NaN,
    };
  }

  /** What the scrapes of the window and the closing one say. */
  scrapeReadings(): Omit<ProcessWindow, keyof ReturnType<ExporterProcess['closeWindow']>> {
    const out: ReturnType<ExporterProcess['scrapeReadings']> = {
      windowScrapes: this.windowScrapes,
      plainBytes: this.plainBytes,
      stall: this.stall.readings(),
      quietConnects: this.quietConnects,
      connectType: this.connectType,
    };
    const { first, last } = this;
    if (first !== undefined && last !== undefined) {
      const checks = increase(checksOf(first), checksOf(last));
      const rounds = increase(roundsOf(first), roundsOf(last));
      if (checks !== undefined) out.checks = checks;
      if (rounds !== undefined) out.rounds = rounds;
    }
    if (last !== undefined) {
      const owned = sumOf(last, SHARD_FAMILIES.owned);
      const configured = sumOf(last, SHARD_FAMILIES.configured);
      if (owned !== undefined) out.targetsOwned = owned;
      if (configured !== undefined) out.targetsConfigured = configured;
    }
    return out;
  }

  stop(): Promise<void> {
    this.rss.stop();
    return this.child.stop();
  }

  /** Polls /-/ready (200 once every target's first round is done) every second. */
  private async pollReady(): Promise<void> {
    for (;;) {
      if (this.exitedHow !== undefined) return;
      const answer = await fetch(`${this.base}/-/ready`, { signal: AbortSignal.timeout(10_000) }).then(
        async (r) => (await r.arrayBuffer(), r.status),
        () => 0,
      );
      if (answer === 200) {
        this.firstRoundDoneAt = Date.now();
        return;
      }
      await sleepUntil(Date.now() + 1000);
    }
  }
}
