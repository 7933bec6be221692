// The bench's table: one column per scenario, in Markdown (readable as it is, and
// pasted into BENCHMARKS.md).
import type { BlackboxRunResult } from './blackbox-run.js';
import type { SelfTime } from './cpu-profile.js';
import type { ExporterRunResult } from './exporter-run.js';
import type { MemorySample } from './memory.js';
import type { OriginChildTotals } from './origin-child.js';
import type { ScrapeResult } from './scrape.js';
import { shardTotals } from './shard-run.js';
import type { ShardRunResult, ShardTotals } from './shard-run.js';
import { max, quantile } from './stats.js';

export interface ScenarioResult {
  hosts: number;
  quiet: number;
  intervals: number;
  full: ExporterRunResult;
  /** The reachability-only run, or why there is none. */
  reachability: ExporterRunResult | string;
  /** The blackbox run, or why there is none. */
  blackbox: BlackboxRunResult | string;
  profile?: { busyMs: number; top: SelfTime[] };
  /** The sharded run (--shards); absent without it. */
  sharded?: ShardRunResult;
}

const MB = 1e6;
const mb = (bytes: number): string => `${(bytes / MB).toFixed(bytes < 10 * MB ? 2 : 1)} MB`;
const msOf = (seconds: number, digits = 1): string => (Number.isFinite(seconds) ? `${(seconds * 1000).toFixed(digits)} ms` : 'n/a');
const pct = (share: number): string => `${(share * 100).toFixed(1)} %`;
const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');

function cpuPerHostRound(run: { cpuSeconds: number }, hosts: number, intervals: number): number {
  return run.cpuSeconds / (hosts * intervals);
}

/** A client that closes right after its own handshake leaves the server's unfinished: both counts tell. */
function originLoad(origin: OriginChildTotals, hostRounds: number): string {
  return `${(origin.accepted / hostRounds).toFixed(1)} (${(origin.handshakes / hostRounds).toFixed(1)})`;
}

/** The last gzip-accepting scrape's size on the wire. */
function gzipSize(scrapes: readonly ScrapeResult[]): string {
  const gz = [...scrapes].reverse().find((x) => x.acceptedGzip);
  if (gz === undefined) return 'n/a';
  return gz.gzipped ? mb(gz.wireBytes) : `${mb(gz.wireBytes)} (not compressed)`;
}

/** The sharded run's rows, beside the single process's: the replicas added up. */
function shardRows(row: (name: string, cell: (s: ScenarioResult) => string) => void): void {
  const totals = (s: ScenarioResult) => (s.sharded === undefined ? undefined : shardTotals(s.sharded, s.hosts + s.quiet));
  const cell =
    (f: (x: { sh: ShardRunResult; t: ShardTotals; s: ScenarioResult }) => string) =>
    (s: ScenarioResult): string => {
      const t = totals(s);
      return s.sharded === undefined || t === undefined ? 'n/a' : f({ sh: s.sharded, t, s });
    };
  row('sharded: replicas (--shard i --total-shards N)', cell(({ sh }) => String(sh.shards)));
  row('sharded: total CPU per host-round (sum over replicas)', cell(({ t, s }) => msOf(cpuPerHostRound(t, s.hosts, s.intervals), 2)));
  row('sharded: total CPU, share of one core (the busiest replica)', cell(({ sh, t }) => `${pct(t.cpuSeconds / sh.windowSeconds)} (${pct(Math.max(...sh.replicas.map((r) => r.cpuSeconds)) / sh.windowSeconds)})`));
  row('sharded: rounds in the window, all replicas (expected)', cell(({ t, s }) => `${t.rounds ?? 'n/a'} (${(s.hosts + s.quiet) * s.intervals})`));
  row('sharded: targets owned, summed (each replica)', cell(({ t }) => (t.mismatch === undefined ? `${t.owned} (${t.ownedEach.join(' + ')})` : `**MISMATCH**: ${t.mismatch} (${t.ownedEach.join(' + ')})`)));
  row('sharded: peak RSS (VmHWM), summed / the largest replica', cell(({ t }) => `${mb(t.peakRssSumBytes)} / ${mb(t.peakRssMaxBytes)}`));
  row('sharded: every first round done after (the window starts at)', cell(({ sh }) => `${Math.max(...sh.replicas.map((r) => r.firstRoundSeconds)).toFixed(0)} s (${sh.warmupSeconds.toFixed(0)} s)`));
  row('sharded: scrape size per replica, plain', cell(({ sh }) => sh.replicas.map((r) => mb(r.plainBytes)).join(', ')));
  row('sharded: scrape size per replica, Accept-Encoding: gzip', cell(({ sh }) => sh.replicas.map((r) => gzipSize(r.windowScrapes)).join(', ')));
  row('sharded: whole machine busy in the window (cores, every process)', cell(({ sh }) => sh.machineBusyCores.toFixed(2)));
  row('ratio sharded / single: total CPU per host-round', cell(({ t, s }) => ratio(cpuPerHostRound(t, s.hosts, s.intervals), cpuPerHostRound(s.full, s.hosts, s.intervals))));
  row('ratio sharded / single: peak RSS, summed', cell(({ t, s }) => ratio(t.peakRssSumBytes, s.full.peakRssBytes)));
}

function scrapeTimes(run: ExporterRunResult, gzip: boolean): string {
  const times = [...run.windowScrapes, ...run.extraScrapes].filter((s: ScrapeResult) => s.acceptedGzip === gzip).map((s) => s.seconds);
  if (times.length === 0) return 'n/a';
  return `${msOf(quantile(times, 0.5))} / ${msOf(quantile(times, 0.99))} (n=${times.length})`;
}

export function renderTable(scenarios: ScenarioResult[], alone: number[]): string {
  const rows: Array<[string, (s: ScenarioResult) => string]> = [];
  const row = (name: string, cell: (s: ScenarioResult) => string): void => {
    rows.push([name, cell]);
  };
  const reach = (s: ScenarioResult): ExporterRunResult | undefined => (typeof s.reachability === 'string' ? undefined : s.reachability);
  const bb = (s: ScenarioResult): BlackboxRunResult | undefined => (typeof s.blackbox === 'string' ? undefined : s.blackbox);
  const aloneP50 = quantile(alone, 0.5);

  row('exporter: CPU per host-round (all checks)', (s) => msOf(cpuPerHostRound(s.full, s.hosts, s.intervals), 2));
  row('exporter: CPU, share of one core', (s) => pct(s.full.cpuSeconds / s.full.windowSeconds));
  row('exporter: checks per second', (s) => (s.full.checks === undefined ? 'n/a (not exported)' : (s.full.checks / s.full.windowSeconds).toFixed(1)));
  row('exporter: rounds in the window (expected)', (s) => `${s.full.rounds ?? 'n/a'} (${(s.hosts + s.quiet) * s.intervals})`);
  row('exporter: connections to the origin per host-round (TLS handshakes it completed)', (s) => originLoad(s.full.origin, s.hosts * s.intervals));
  row('origin process CPU, share of one core (exporter run)', (s) => pct(s.full.originCpuSeconds / s.full.windowSeconds));
  row('whole machine busy in the window (cores, every process)', (s) => s.full.machineBusyCores.toFixed(2));
  row('exporter: peak RSS (VmHWM)', (s) => mb(s.full.peakRssBytes));
  row('exporter: every first round done after (the window starts at)', (s) => `${s.full.firstRoundSeconds.toFixed(0)} s (${s.full.warmupSeconds.toFixed(0)} s)`);
  row('exporter: peak RSS before the window (first rounds) / in the window, read every second', (s) => `${mb(s.full.rssPeakBeforeBytes)} / ${mb(s.full.rssPeakInWindowBytes)}`);
  row('exporter: RSS at the end of the window (VmRSS)', (s) => mb(s.full.rssAtEndBytes));
  // Memory a host adds: between this scenario and the smallest one of the run.
  const smallest = scenarios.reduce<ScenarioResult | undefined>((a, s) => (a === undefined || s.hosts < a.hosts ? s : a), undefined);
  const perHost = (s: ScenarioResult, bytes: (x: ScenarioResult) => number | undefined): string => {
    const a = smallest === undefined ? undefined : bytes(smallest);
    const b = bytes(s);
    if (smallest === undefined || s.hosts === smallest.hosts || a === undefined || b === undefined) return 'n/a (the smallest scenario)';
    return `${((b - a) / (s.hosts - smallest.hosts) / 1000).toFixed(1)} KB`;
  };
  row('exporter: peak RSS per host beyond the smallest scenario', (s) => perHost(s, (x) => x.full.peakRssBytes));
  row('exporter: peak RSS in the window per host beyond the smallest scenario', (s) => perHost(s, (x) => x.full.rssPeakInWindowBytes));
  if (scenarios.some((s) => s.full.memory !== undefined)) {
    const m = (s: ScenarioResult): MemorySample | undefined => s.full.memory;
    row('after the window, a full GC: RSS (anonymous)', (s) => {
      const x = m(s);
      return x === undefined ? 'n/a' : `${mb(x.status.VmRSS ?? x.rss)} (${mb(x.status.RssAnon ?? NaN)})`;
    });
    row('main thread V8 heap: used / committed', (s) => {
      const x = m(s);
      return x === undefined ? 'n/a' : `${mb(x.heapUsed)} / ${mb(x.heapTotal)}`;
    });
    row('main thread: external memory (of it array buffers)', (s) => {
      const x = m(s);
      return x === undefined ? 'n/a' : `${mb(x.external)} (${mb(x.arrayBuffers)})`;
    });
    row('scrape assembler worker: heap snapshot size', (s) => {
      const x = m(s);
      return x === undefined ? 'n/a' : x.workers.map((w) => mb(w.heapBytes)).join(', ') || 'no worker';
    });
    row('the rest of RSS: native (OpenSSL, sockets, malloc, code, worker isolate)', (s) => {
      const x = m(s);
      if (x === undefined) return 'n/a';
      const workers = x.workers.reduce((a, w) => a + w.heapBytes, 0);
      return mb((x.status.VmRSS ?? x.rss) - x.heapTotal - x.external - workers);
    });
    row('per host beyond the smallest scenario: RSS after GC / main heap used / external', (s) =>
      [(x: ScenarioResult) => x.full.memory?.status.VmRSS, (x: ScenarioResult) => x.full.memory?.heapUsed, (x: ScenarioResult) => x.full.memory?.external]
        .map((pick) => perHost(s, pick))
        .join(' / '),
    );
  }
  row('scrape size, plain', (s) => mb(s.full.plainBytes));
  row('scrape size, Accept-Encoding: gzip', (s) => gzipSize(s.full.windowScrapes));
  row('scrape time p50 / p99, gzip accepted', (s) => scrapeTimes(s.full, true));
  row('scrape time p50 / p99, plain', (s) => scrapeTimes(s.full, false));
  row('largest stall from outside: worst /-/healthy wait (p99)', (s) => {
    const p = s.full.pinger;
    if (p === undefined || p.waitsMs.length === 0) return 'n/a';
    const failed = p.failures > 0 ? `, ${p.failures} failed` : '';
    return `${max(p.waitsMs).toFixed(1)} ms (p99 ${quantile(p.waitsMs, 0.99).toFixed(1)} ms, n=${p.waitsMs.length}${failed})`;
  });
  row("exporter's own stall / lag metrics in the window", (s) =>
    s.full.stall.length === 0 ? 'none exported' : s.full.stall.map((r) => `${r.series}: ${r.value} (${r.how})`).join('<br>'),
  );
  row('skew: quiet TCP connect, alone p50 / p95', () => `${msOf(aloneP50, 3)} / ${msOf(quantile(alone, 0.95), 3)} (n=${alone.length})`);
  row('skew: quiet TCP connect under load p50 / p95', (s) =>
    `${msOf(quantile(s.full.quietConnects, 0.5), 3)} / ${msOf(quantile(s.full.quietConnects, 0.95), 3)} (n=${s.full.quietConnects.length}, ${s.full.connectType})`,
  );
  row('skew: difference (under load - alone p50) p50 / p95', (s) => {
    const diffs = s.full.quietConnects.map((v) => v - aloneP50);
    return `${msOf(quantile(diffs, 0.5), 3)} / ${msOf(quantile(diffs, 0.95), 3)}`;
  });
  if (scenarios.some((s) => s.sharded !== undefined)) shardRows(row);
  row('reachability only: CPU per host-round', (s) => {
    const r = reach(s);
    return r === undefined ? (s.reachability as string) : `${msOf(cpuPerHostRound(r, s.hosts, s.intervals), 2)} (${pct(r.cpuSeconds / r.windowSeconds)} of a core, RSS ${mb(r.peakRssBytes)})`;
  });
  row('blackbox (dns + tcp_tls + http2): CPU per host-interval', (s) => {
    const b = bb(s);
    return b === undefined ? (s.blackbox as string) : msOf(cpuPerHostRound(b, s.hosts, s.intervals), 2);
  });
  row('blackbox: CPU, share of one core', (s) => {
    const b = bb(s);
    return b === undefined ? 'n/a' : pct(b.cpuSeconds / b.windowSeconds);
  });
  row('origin process CPU, share of one core (blackbox run)', (s) => {
    const b = bb(s);
    return b === undefined ? 'n/a' : pct(b.originCpuSeconds / b.windowSeconds);
  });
  row('whole machine busy in the blackbox window (cores, every process)', (s) => {
    const b = bb(s);
    return b === undefined ? 'n/a' : b.machineBusyCores.toFixed(2);
  });
  row('blackbox: peak RSS (VmHWM)', (s) => {
    const b = bb(s);
    return b === undefined ? 'n/a' : mb(b.peakRssBytes);
  });
  row('blackbox: peak RSS per host beyond the smallest scenario', (s) => {
    const b = bb(s);
    return b === undefined ? 'n/a' : perHost(s, (x) => bb(x)?.peakRssBytes);
  });
  row('blackbox: connections to the origin per host-interval (TLS handshakes it completed)', (s) => {
    const b = bb(s);
    return b === undefined ? 'n/a' : originLoad(b.origin, s.hosts * s.intervals);
  });
  row('blackbox: probes (failed)', (s) => {
    const b = bb(s);
    if (b === undefined) return 'n/a';
    const failed = Object.values(b.failures).reduce((a, c) => a + c, 0);
    const which = Object.entries(b.failures)
      .filter(([, n]) => n > 0)
      .map(([m, n]) => `${m} ${n}`)
      .join(', ');
    return `${b.probes} (${failed}${which === '' ? '' : `: ${which}`})`;
  });
  row('ratio exporter / blackbox: CPU per host, whole round', (s) => {
    const b = bb(s);
    return b === undefined ? 'n/a' : ratio(cpuPerHostRound(s.full, s.hosts, s.intervals), cpuPerHostRound(b, s.hosts, s.intervals));
  });
  row('ratio exporter / blackbox: CPU per host, reachability only', (s) => {
    const b = bb(s);
    const r = reach(s);
    return b === undefined || r === undefined ? 'n/a' : ratio(cpuPerHostRound(r, s.hosts, s.intervals), cpuPerHostRound(b, s.hosts, s.intervals));
  });
  row('ratio exporter / blackbox: peak RSS', (s) => {
    const b = bb(s);
    return b === undefined ? 'n/a' : ratio(s.full.peakRssBytes, b.peakRssBytes);
  });

  const header = `| measure | ${scenarios.map((s) => `${s.hosts} hosts`).join(' | ')} |`;
  const rule = `|---|${scenarios.map(() => '---').join('|')}|`;
  return [header, rule, ...rows.map(([name, cell]) => `| ${name} | ${scenarios.map(cell).join(' | ')} |`)].join('\n');
}

export function renderProfile(s: ScenarioResult): string {
  if (s.profile === undefined) return '';
  const lines = [
    `Top 15 self-time functions, exporter, ${s.hosts} hosts (${(s.profile.busyMs / 1000).toFixed(1)} s busy in the profile):`,
    '',
    '| self ms | share | function |',
    '|---:|---:|---|',
    ...s.profile.top.map((f) => `| ${f.ms.toFixed(0)} | ${pct(f.share)} | \`${f.name}\` |`),
  ];
  return lines.join('\n');
}
