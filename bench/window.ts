// The bench's window rules, for one exporter process or several running side by side
// (the replicas of a sharded run): scraped every scrape interval from the start; the
// warm-up lasts at least one interval and until every process's first rounds are done
// (/-/ready); the window is whole intervals from an interval's start after that. The
// machine, origin and DNS readings are the window's, shared by every process in it.
import { formatDuration } from '../src/config/duration.js';
import { sleepUntil } from './clock.js';
import type { DnsChildTotals } from './dns-child.js';
import type { BenchServers } from './bench-servers.js';
import type { ExporterProcess, ProcessWindow } from './exporter-process.js';
import type { ChildLink } from './ipc.js';
import type { OriginChildTotals } from './origin-child.js';
import type { PingerSamples } from './pinger-child.js';
import { cpuSeconds, machineBusyCores, machineTicks } from './proc-stats.js';

export interface WindowOptions {
  /** Names the run in the log. */
  name: string;
  intervalMs: number;
  /** Whole intervals measured, after the warm-up. */
  intervals: number;
  scrapeEveryMs: number;
  log: (line: string) => void;
}

/** What the window measured besides each process. */
export interface SharedWindow {
  windowSeconds: number;
  /** From serving (the last process to serve) to the window's start. */
  warmupSeconds: number;
  origin: OriginChildTotals;
  /** CPU seconds the origin process used in the window. */
  originCpuSeconds: number;
  /** Cores' worth of CPU the whole machine used in the window: everything, other sessions' work included. */
  machineBusyCores: number;
  dnsQueries: number;
  pinger?: PingerSamples;
}

const scrapeAll = (processes: readonly ExporterProcess[], phase: Parameters<ExporterProcess['readScrape']>[0]): Promise<unknown> =>
  Promise.all(processes.map((p) => p.readScrape(phase)));

/**
 * Runs the warm-up and the window over `processes` (scraped together, as Prometheus scrapes
 * each target on its own), and the closing scrape after it. `pinger`: started with the window.
 */
export async function measureWindow(
  servers: BenchServers,
  processes: readonly ExporterProcess[],
  o: WindowOptions,
  pinger?: ChildLink<unknown>,
): Promise<{ shared: SharedWindow; processes: ProcessWindow[] }> {
  // One schedule for all: the last process to serve sets it (replicas start within a moment of each other).
  const ready = Math.max(...processes.map((p) => p.ready));
  const allFirstRoundsDone = (): number | undefined => {
    let latest = -Infinity;
    for (const p of processes) {
      if (p.firstRoundDoneAt === undefined) return undefined;
      latest = Math.max(latest, p.firstRoundDoneAt);
    }
    return latest;
  };
  // At thousands of hosts the first rounds (each with every TLS requirement handshake) take
  // longer than an interval, and a window over them would measure them, not the schedule.
  let windowStart = ready + o.intervalMs;
  for (let at = ready + o.scrapeEveryMs; at < windowStart || allFirstRoundsDone() === undefined; at += o.scrapeEveryMs) {
    await sleepUntil(at);
    await scrapeAll(processes, 'warm-up');
    const done = allFirstRoundsDone();
    if (done !== undefined) windowStart = Math.max(windowStart, ready + Math.ceil((done - ready) / o.intervalMs) * o.intervalMs);
  }
  await Promise.all(processes.map((p) => p.firstRoundDone));
  const firstRounds = ((allFirstRoundsDone() ?? NaN) - ready) / 1000;
  const windowEnd = windowStart + o.intervals * o.intervalMs;
  o.log(`  ${o.name}: every first round done after ${firstRounds.toFixed(0)} s; the window starts ${((windowStart - ready) / 1000).toFixed(0)} s after the start`);
  await sleepUntil(windowStart);
  for (const p of processes) p.openWindow();
  const originCpuStart = cpuSeconds(servers.originPid);
  const machineStart = machineTicks();
  const clockStart = process.hrtime.bigint();
  const originStart = await servers.origin.ask<OriginChildTotals>('totals');
  const dnsStart = await servers.dns.ask<DnsChildTotals>('totals');
  await pinger?.ask('start');
  o.log(`  ${o.name}: measuring ${o.intervals} whole interval(s) of ${formatDuration(o.intervalMs)}`);
  await scrapeAll(processes, 'window');
  for (let at = windowStart + o.scrapeEveryMs; at < windowEnd; at += o.scrapeEveryMs) {
    await sleepUntil(at);
    await scrapeAll(processes, 'window');
  }
  await sleepUntil(windowEnd);
  const closed = processes.map((p) => p.closeWindow());
  const originCpuEnd = cpuSeconds(servers.originPid);
  const machineBusy = machineBusyCores(machineStart, machineTicks());
  const windowSeconds = Number(process.hrtime.bigint() - clockStart) / 1e9;
  const originEnd = await servers.origin.ask<OriginChildTotals>('totals');
  const dnsEnd = await servers.dns.ask<DnsChildTotals>('totals');
  const pingerSamples = await pinger?.ask<PingerSamples>('stop');
  // The closing scrape gives the counters' end values; its cost falls outside the window.
  await scrapeAll(processes, 'closing');

  const shared: SharedWindow = {
    windowSeconds,
    warmupSeconds: (windowStart - ready) / 1000,
    origin: {
      accepted: originEnd.accepted - originStart.accepted,
      handshakes: originEnd.handshakes - originStart.handshakes,
      requests: originEnd.requests - originStart.requests,
    },
    originCpuSeconds: originCpuEnd - originCpuStart,
    machineBusyCores: machineBusy,
    dnsQueries: dnsEnd.queries - dnsStart.queries,
  };
  if (pingerSamples !== undefined) shared.pinger = pingerSamples;
  return { shared, processes: processes.map((p, i) => ({ ...(closed[i] as ReturnType<ExporterProcess['closeWindow']>), ...p.scrapeReadings() })) };
}
