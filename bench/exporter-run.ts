// One run of the exporter as a child process (`node dist/cli.js`), on its own schedule,
// measured from outside only: /proc for CPU and memory, /metrics as Prometheus scrapes
// it, /-/healthy for stalls. Nothing here depends on how the exporter works inside.
import { execFile } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TLS_REQUIREMENTS } from '../src/model/tls-requirements.js';
import { formatDuration } from '../src/config/duration.js';
import { freePort, sleepUntil, waitUntilServing } from './clock.js';
import type { ChildLink } from './ipc.js';
import type { DnsChildTotals } from './dns-child.js';
import { benchHostName } from './names.js';
import type { OriginChildTotals } from './origin-child.js';
import type { PingerSamples } from './pinger-child.js';
import { cpuSeconds, machineBusyCores, machineTicks, memory, RssSampler } from './proc-stats.js';
import { forkModule, spawnLogged, withoutProxyEnv } from './processes.js';
import { CONNECT_FAMILY, isStallFamily, QuietConnectTracker, StallTracker } from './readings.js';
import type { StallReading } from './readings.js';
import { pickFamilies, scrape, sumOf } from './scrape.js';
import type { ScrapeResult } from './scrape.js';
import { linkChild } from './ipc.js';
import { NODE_FLAGS } from '../src/node-flags.js';
import { askMemory, MEMORY_PROBE_FLAGS } from './memory.js';
import type { MemorySample } from './memory.js';

const execFileAsync = promisify(execFile);

/** What every run shares: the servers the bench started, and where things go. */
export interface BenchServers {
  /** The run directory: configs, logs, profiles. */
  dir: string;
  /** The checkout whose dist/cli.js runs. */
  exporterDir: string;
  dnsPort: number;
  originPort: number;
  quietPort: number;
  caFile: string;
  dns: ChildLink<unknown>;
  origin: ChildLink<unknown>;
  /** The origin's process, whose CPU tells whether it kept up. */
  originPid: number;
  /**
   * The build judges a config's own targets on `tls.requirements` (none unless listed):
   * the bench lists all eight, so every build runs the same handshakes a round (an older
   * build judged every target on all eight, and has no such key).
   */
  listsTlsRequirements: boolean;
}

export interface ExporterRunOptions {
  /** Names the run's files: `100-all`, `alone`, ... */
  name: string;
  hosts: number;
  quietHosts: readonly string[];
  intervalMs: number;
  /** Whole intervals measured, after one interval of warm-up. */
  intervals: number;
  scrapeEveryMs: number;
  /** Checks of the bench hosts; undefined: the exporter's default check set. */
  checks?: readonly string[];
  /** Extra top-level YAML for the config. */
  extraYaml?: string;
  /** Ping /-/healthy through the window. */
  pinger: boolean;
  /** After the window, scrape until this many scrapes of each kind (gzip, plain) were timed. */
  scrapeSamples: number;
  cpuProfile: boolean;
  /** Node flags after NODE_FLAGS (--node-flag). */
  nodeFlags?: readonly string[];
  /** Preload the memory probe and ask it where the memory is after the window; `snapshots`: keep heap snapshots. */
  memory?: { snapshots: boolean };
  log: (line: string) => void;
}

export interface ExporterRunResult {
  windowSeconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
  /** VmRSS at the end of the window. */
  rssAtEndBytes: number;
  /** The largest VmRSS read (every second) before the window, and in it. */
  rssPeakBeforeBytes: number;
  rssPeakInWindowBytes: number;
  /** From serving to every target's first round done (/-/ready). */
  firstRoundSeconds: number;
  /** From serving to the window's start. */
  warmupSeconds: number;
  /** Where the memory was at the end of the window, after a full GC (--memory). */
  memory?: MemorySample;
  /** Increase of egress_probe_runs_total over the window; undefined when not exported. */
  checks?: number;
  /** Increase of egress_exporter_round_duration_seconds_count; undefined when not exported. */
  rounds?: number;
  origin: OriginChildTotals;
  /** CPU seconds the origin process used in the window. */
  originCpuSeconds: number;
  /** Cores' worth of CPU the whole machine used in the window: everything, other sessions' work included. */
  machineBusyCores: number;
  dnsQueries: number;
  /** Scrapes in the window (gzip accepted) and the extra ones after it. */
  windowScrapes: ScrapeResult[];
  extraScrapes: ScrapeResult[];
  plainBytes: number;
  pinger?: PingerSamples;
  stall: StallReading[];
  /** Quiet hosts' connect times in the window, seconds. */
  quietConnects: number[];
  /** The connect family's type in this build (histogram, gauge, ...). */
  connectType: string;
  profile?: string;
}

/** The exporter's config for a run: the bench hosts at the origin, the quiet hosts at their listener. */
export function exporterConfig(servers: BenchServers, o: Pick<ExporterRunOptions, 'hosts' | 'quietHosts' | 'intervalMs' | 'checks' | 'extraYaml'>): string {
  const lines = [
    '# Written by npm run bench.',
    'catalog: none',
    `interval: ${formatDuration(o.intervalMs)}`,
    // The default timeout (10s) must stay shorter than the interval.
    ...(o.intervalMs <= 10_000 ? [`timeout: ${formatDuration(Math.floor(o.intervalMs / 2))}`] : []),
    'concurrency: 32',
    `dns: { servers: ["127.0.0.1:${servers.dnsPort}"] }`,
    `tls: { ca_file: ${JSON.stringify(servers.caFile)}${servers.listsTlsRequirements ? `, requirements: [${TLS_REQUIREMENTS.join(', ')}]` : ''} }`,
    ...(o.extraYaml === undefined ? [] : [o.extraYaml]),
    'targets:',
  ];
  const checks = o.checks === undefined ? '' : `, checks: [${o.checks.join(', ')}]`;
  for (let i = 0; i < o.hosts; i += 1) lines.push(`  - { host: ${benchHostName(i)}, port: ${servers.originPort}${checks} }`);
  for (const host of o.quietHosts) lines.push(`  - { host: ${host}, port: ${servers.quietPort}, checks: [dns, tcp] }`);
  return `${lines.join('\n')}\n`;
}

/** Whether the build at `exporterDir` takes `tls.requirements` (see BenchServers.listsTlsRequirements). */
export async function takesTlsRequirements(exporterDir: string, dir: string): Promise<boolean> {
  const file = join(dir, 'requirements-key.yml');
  await writeFile(file, 'catalog: none\ntls: { requirements: [] }\n');
  return execFileAsync(process.execPath, [join(exporterDir, 'dist/cli.js'), '--config.check', '--config.file', file], { timeout: 60_000 }).then(
    () => true,
    () => false,
  );
}

/** The effective config the exporter makes of a file (`--config.check`), to tell two configs apart. */
export async function effectiveConfig(exporterDir: string, file: string): Promise<string> {
  const { stdout } = await execFileAsync(process.execPath, [join(exporterDir, 'dist/cli.js'), '--config.check', '--config.file', file], { timeout: 60_000, maxBuffer: 64 * 2 ** 20 });
  return stdout;
}

export async function runExporter(servers: BenchServers, o: ExporterRunOptions): Promise<ExporterRunResult> {
  const configFile = join(servers.dir, `${o.name}.yml`);
  await writeFile(configFile, exporterConfig(servers, o));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const profileDir = join(servers.dir, `${o.name}-profile`);
  const nodeFlags = [...NODE_FLAGS, ...(o.nodeFlags ?? []), ...(o.cpuProfile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), ...(o.memory ? MEMORY_PROBE_FLAGS : [])];
  const exporter = spawnLogged(
    `exporter (${o.name})`,
    process.execPath,
    [...nodeFlags, join(servers.exporterDir, 'dist/cli.js'), '--config.file', configFile, '--web.listen-address', `127.0.0.1:${port}`],
    join(servers.dir, `${o.name}.log`),
    withoutProxyEnv(),
    o.memory !== undefined,
  );
  let exitedHow: string | undefined;
  void exporter.exited.then((how) => (exitedHow = how));
  const alive = (): void => {
    if (exitedHow !== undefined) throw new Error(`the exporter (${o.name}) ended (${exitedHow}); see ${join(servers.dir, `${o.name}.log`)}`);
  };

  const pinger = o.pinger ? forkModule(`pinger (${o.name})`, join(import.meta.dirname, 'pinger-child.ts'), [`${base}/-/healthy`], join(servers.dir, 'pinger.log')) : undefined;
  try {
    await waitUntilServing(`${base}/-/healthy`, 60_000, () => (exitedHow === undefined ? undefined : `the exporter ended (${exitedHow})`));
    const pingerLink = pinger === undefined ? undefined : await linkChild(pinger);
    // The exporter's schedule starts as it starts serving: interval k is [ready + k I, ready + (k+1) I).
    const ready = Date.now();
    // Resident memory, read every second: its peak before the window (the first rounds) and in it.
    const rss = new RssSampler(exporter.pid);
    // The window starts at an interval's start once every target's first round is done (/-/ready):
    // at thousands of hosts the first rounds (each with every TLS requirement handshake) take
    // longer than an interval, and a window over them would measure them, not the schedule.
    let firstRoundSeconds: number | undefined;
    const firstRoundDone = (async () => {
      for (;;) {
        if (exitedHow !== undefined) return;
        const answer = await fetch(`${base}/-/ready`, { signal: AbortSignal.timeout(10_000) }).then(
          async (r) => (await r.arrayBuffer(), r.status),
          () => 0,
        );
        if (answer === 200) {
          firstRoundSeconds = (Date.now() - ready) / 1000;
          return;
        }
        await sleepUntil(Date.now() + 1000);
      }
    })();
    const quiet = new QuietConnectTracker(new Set(o.quietHosts));
    const stall = new StallTracker();
    const windowScrapes: ScrapeResult[] = [];
    const quietConnects: number[] = [];
    let connectType = 'absent';
    let plainBytes = 0;
    const scrapeTimeoutMs = Math.max(o.scrapeEveryMs, 10_000);
    const wanted = (name: string): boolean =>
      name === CONNECT_FAMILY ||
      name === 'egress_probe_runs_total' ||
      name === 'egress_exporter_round_duration_seconds' ||
      name === 'egress_exporter_rounds_total' ||
      name === 'egress_probe_success' ||
      isStallFamily(name);

    /** A scheduled scrape: timed, then read for what the bench follows. */
    const readScrape = async (inWindow: boolean) => {
      alive();
      const result = await scrape(`${base}/metrics`, { gzip: true, keepText: true, timeoutMs: scrapeTimeoutMs });
      const text = result.text ?? '';
      delete result.text;
      plainBytes = Buffer.byteLength(text);
      const families = pickFamilies(text, wanted);
      connectType = families.types.get(CONNECT_FAMILY) ?? connectType;
      const samples = quiet.next(families);
      if (inWindow) {
        windowScrapes.push(result);
        quietConnects.push(...samples);
        stall.next(families);
      }
      return families;
    };
    // Rounds: egress_exporter_rounds_total where the build has it, else the round histogram's count.
    const roundsOf = (families: ReturnType<typeof pickFamilies>) =>
      sumOf(families, 'egress_exporter_rounds_total') ??
      (families.types.get('egress_exporter_round_duration_seconds') === 'histogram' ? sumOf(families, 'egress_exporter_round_duration_seconds_count') : undefined);
    // Checks: egress_probe_runs_total where the build has it, else rounds x checks per round.
    const checksOf = (families: ReturnType<typeof pickFamilies>) => {
      const runs = sumOf(families, 'egress_probe_runs_total');
      if (runs !== undefined) return runs;
      const rounds = sumOf(families, 'egress_exporter_rounds_total');
      const hosts = families.samples.filter((s) => s.name === 'egress_exporter_rounds_total').length;
      const checks = families.samples.filter((s) => s.name === 'egress_probe_success').length;
      return rounds === undefined || hosts === 0 ? undefined : (rounds * checks) / hosts;
    };

    // Warm-up: at least the first interval, and until the first rounds are done; scraped like the rest.
    let windowStart = ready + o.intervalMs;
    for (let at = ready + o.scrapeEveryMs; at < windowStart || firstRoundSeconds === undefined; at += o.scrapeEveryMs) {
      await sleepUntil(at);
      await readScrape(false);
      if (firstRoundSeconds !== undefined) windowStart = Math.max(windowStart, ready + Math.ceil((firstRoundSeconds * 1000) / o.intervalMs) * o.intervalMs);
    }
    await firstRoundDone;
    const windowEnd = windowStart + o.intervals * o.intervalMs;
    o.log(`  ${o.name}: every first round done after ${firstRoundSeconds?.toFixed(0) ?? '?'} s; the window starts ${((windowStart - ready) / 1000).toFixed(0)} s after the start`);
    await sleepUntil(windowStart);
    alive();
    rss.mark();
    const cpuStart = cpuSeconds(exporter.pid);
    const originCpuStart = cpuSeconds(servers.originPid);
    const machineStart = machineTicks();
    const clockStart = process.hrtime.bigint();
    const originStart = await servers.origin.ask<OriginChildTotals>('totals');
    const dnsStart = await servers.dns.ask<DnsChildTotals>('totals');
    await pingerLink?.ask('start');
    o.log(`  ${o.name}: measuring ${o.intervals} whole interval(s) of ${formatDuration(o.intervalMs)}`);
    const first = await readScrape(true);
    for (let at = windowStart + o.scrapeEveryMs; at < windowEnd; at += o.scrapeEveryMs) {
      await sleepUntil(at);
      await readScrape(true);
    }
    await sleepUntil(windowEnd);
    alive();
    const cpuEnd = cpuSeconds(exporter.pid);
    const originCpuEnd = cpuSeconds(servers.originPid);
    const machineBusy = machineBusyCores(machineStart, machineTicks());
    const windowSeconds = Number(process.hrtime.bigint() - clockStart) / 1e9;
    const { peakRssBytes, rssBytes: rssAtEndBytes } = memory(exporter.pid);
    const rssPeaks = rss.stop();
    const originEnd = await servers.origin.ask<OriginChildTotals>('totals');
    const dnsEnd = await servers.dns.ask<DnsChildTotals>('totals');
    const pingerSamples = await pingerLink?.ask<PingerSamples>('stop');
    // The closing scrape gives the counters' end values; its cost falls outside the window.
    const last = await readScrape(false);
    // After the peak was read: a full GC and the heap snapshots take memory of their own.
    let memorySample: MemorySample | undefined;
    if (o.memory !== undefined) {
      o.log(`  ${o.name}: asking where the memory is (a full GC${o.memory.snapshots ? ', heap snapshots' : ''})`);
      memorySample = await askMemory(exporter, servers.dir, o.memory.snapshots);
      for (const file of memorySample.snapshots) o.log(`  ${o.name}: heap snapshot ${file}`);
      await writeFile(join(servers.dir, `${o.name}-memory.json`), `${JSON.stringify(memorySample, null, 1)}\n`);
    }

    // Extra scrapes for the scrape-time p99, alternating gzip and plain, while the schedule runs.
    const extraScrapes: ScrapeResult[] = [];
    const extraUntil = Date.now() + 2 * o.intervalMs;
    const count = (gzip: boolean) => windowScrapes.filter((s) => s.acceptedGzip === gzip).length + extraScrapes.filter((s) => s.acceptedGzip === gzip).length;
    if (o.scrapeSamples > 0) o.log(`  ${o.name}: extra scrapes for the p99 (up to ${o.scrapeSamples} of each kind, at most ${formatDuration(2 * o.intervalMs)})`);
    while (Date.now() < extraUntil && (count(true) < o.scrapeSamples || count(false) < o.scrapeSamples)) {
      alive();
      const gzip = count(true) <= count(false);
      extraScrapes.push(await scrape(`${base}/metrics`, { gzip, keepText: false, timeoutMs: scrapeTimeoutMs }));
      await sleepUntil(Date.now() + 100);
    }

    const startChecks = checksOf(first);
    const endChecks = checksOf(last);
    const startRounds = roundsOf(first);
    const endRounds = roundsOf(last);
    await exporter.stop();
    let profile: string | undefined;
    if (o.cpuProfile) {
      const files = (await readdir(profileDir).catch(() => [])).filter((f) => f.endsWith('.cpuprofile'));
      if (files[0] !== undefined) profile = join(profileDir, files[0]);
    }
    const result: ExporterRunResult = {
      windowSeconds,
      cpuSeconds: cpuEnd - cpuStart,
      peakRssBytes,
      rssAtEndBytes,
      rssPeakBeforeBytes: rssPeaks.before,
      rssPeakInWindowBytes: rssPeaks.inWindow,
      firstRoundSeconds: firstRoundSeconds ?? NaN,
      warmupSeconds: (windowStart - ready) / 1000,
      origin: {
        accepted: originEnd.accepted - originStart.accepted,
        handshakes: originEnd.handshakes - originStart.handshakes,
        requests: originEnd.requests - originStart.requests,
      },
      originCpuSeconds: originCpuEnd - originCpuStart,
      machineBusyCores: machineBusy,
      dnsQueries: dnsEnd.queries - dnsStart.queries,
      windowScrapes,
      extraScrapes,
      plainBytes,
      stall: stall.readings(),
      quietConnects,
      connectType,
    };
    if (startChecks !== undefined && endChecks !== undefined) result.checks = endChecks - startChecks;
    if (startRounds !== undefined && endRounds !== undefined) result.rounds = endRounds - startRounds;
    if (pingerSamples !== undefined) result.pinger = pingerSamples;
    if (profile !== undefined) result.profile = profile;
    if (memorySample !== undefined) result.memory = memorySample;
    return result;
  } finally {
    await pinger?.stop();
    await exporter.stop();
  }
}
