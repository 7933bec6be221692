// The bench's sharded run, the parts that need no exporter: its flag, and how the
// replicas' readings add up (and say so when they do not cover the targets once).
import { describe, expect, it } from 'vitest';
import { parseBenchFlags } from '../bench/flags.js';
import type { ExporterRunResult } from '../bench/exporter-run.js';
import type { ProcessWindow } from '../bench/exporter-process.js';
import { renderTable } from '../bench/report.js';
import type { ScenarioResult } from '../bench/report.js';
import { shardTotals } from '../bench/shard-run.js';
import type { SharedWindow } from '../bench/window.js';
import { UsageError } from '../src/commands/flags.js';

function replica(over: Partial<ProcessWindow>): ProcessWindow {
  return {
    cpuSeconds: 1,
    peakRssBytes: 100e6,
    rssAtEndBytes: 90e6,
    rssPeakBeforeBytes: 95e6,
    rssPeakInWindowBytes: 92e6,
    firstRoundSeconds: 3,
    windowScrapes: [],
    plainBytes: 1000,
    stall: [],
    quietConnects: [],
    connectType: 'histogram',
    ...over,
  };
}

const window: SharedWindow = {
  windowSeconds: 10,
  warmupSeconds: 10,
  origin: { accepted: 0, handshakes: 0, requests: 0 },
  originCpuSeconds: 0,
  machineBusyCores: 1,
  dnsQueries: 0,
};

function scenario(sharded?: ScenarioResult['sharded']): ScenarioResult {
  const full: ExporterRunResult = { ...window, ...replica({ cpuSeconds: 4, peakRssBytes: 200e6, rounds: 110 }), extraScrapes: [] };
  return { hosts: 100, quiet: 10, intervals: 1, full, reachability: 'n/a', blackbox: 'n/a', ...(sharded === undefined ? {} : { sharded }) };
}

const rowOf = (table: string, name: string): string | undefined => table.split('\n').find((line) => line.startsWith(`| ${name} |`));

describe('bench --shards', () => {
  it('is off by default and takes 2 to 8 replicas', () => {
    expect(parseBenchFlags([], '/repo').shards).toBeUndefined();
    expect(parseBenchFlags(['--shards', '3'], '/repo').shards).toBe(3);
    expect(() => parseBenchFlags(['--shards', '1'], '/repo')).toThrow(UsageError);
    expect(() => parseBenchFlags(['--shards', '9'], '/repo')).toThrow(UsageError);
  });

  it('scrapes every 15 s, or every interval when that is shorter; a longer scrape interval given is refused', () => {
    expect(parseBenchFlags([], '/repo').scrapeEveryMs).toBe(15_000);
    expect(parseBenchFlags(['--interval', '10s'], '/repo').scrapeEveryMs).toBe(10_000);
    expect(() => parseBenchFlags(['--interval', '10s', '--scrape-interval', '15s'], '/repo')).toThrow(UsageError);
  });

  it('adds up CPU, memory, rounds and owned targets over the replicas', () => {
    const totals = shardTotals(
      {
        replicas: [
          replica({ cpuSeconds: 2, peakRssBytes: 120e6, rounds: 60, targetsOwned: 60, targetsConfigured: 110 }),
          replica({ cpuSeconds: 3, peakRssBytes: 130e6, rounds: 50, targetsOwned: 50, targetsConfigured: 110 }),
        ],
      },
      110,
    );
    expect(totals).toEqual({
      cpuSeconds: 5,
      peakRssSumBytes: 250e6,
      peakRssMaxBytes: 130e6,
      rounds: 110,
      owned: 110,
      ownedEach: ['60', '50'],
      mismatch: undefined,
    });
  });

  it('names a target nobody owns, one owned twice, and a replica that does not say', () => {
    const short = shardTotals({ replicas: [replica({ targetsOwned: 60, targetsConfigured: 110 }), replica({ targetsOwned: 49, targetsConfigured: 110 })] }, 110);
    expect(short.mismatch).toBe('the replicas own 109 targets together, the config has 110');
    const twice = shardTotals({ replicas: [replica({ targetsOwned: 110, targetsConfigured: 110 }), replica({ targetsOwned: 110, targetsConfigured: 110 })] }, 110);
    expect(twice.mismatch).toBe('the replicas own 220 targets together, the config has 110');
    const silent = shardTotals({ replicas: [replica({ targetsOwned: 110 }), replica({})] }, 110);
    expect(silent.owned).toBeUndefined();
    expect(silent.ownedEach).toEqual(['110', '?']);
    expect(silent.mismatch).toBe('a replica does not export egress_exporter_targets_owned');
    expect(silent.rounds).toBeUndefined();
  });

  it('names a replica that counts other configured targets', () => {
    const other = shardTotals({ replicas: [replica({ targetsOwned: 60, targetsConfigured: 110 }), replica({ targetsOwned: 50, targetsConfigured: 100 })] }, 110);
    expect(other.mismatch).toBe('a replica counts 100 configured targets, not 110');
  });
});

describe('the bench table with a sharded run', () => {
  it('has no sharded rows without --shards', () => {
    expect(renderTable([scenario()], [0.001])).not.toContain('sharded');
  });

  it('shows the replicas added up beside the single process', () => {
    const replicas = [
      replica({ cpuSeconds: 2, peakRssBytes: 120e6, rounds: 60, targetsOwned: 60, targetsConfigured: 110, plainBytes: 2e6 }),
      replica({ cpuSeconds: 3, peakRssBytes: 130e6, rounds: 50, targetsOwned: 50, targetsConfigured: 110, plainBytes: 1.5e6 }),
    ];
    const table = renderTable([scenario({ ...window, shards: 2, replicas })], [0.001]);
    // 5 CPU seconds over 100 hosts and one round each.
    expect(rowOf(table, 'sharded: total CPU per host-round (sum over replicas)')).toContain('| 50.00 ms |');
    expect(rowOf(table, 'sharded: total CPU, share of one core (the busiest replica)')).toContain('| 50.0 % (30.0 %) |');
    expect(rowOf(table, 'sharded: rounds in the window, all replicas (expected)')).toContain('| 110 (110) |');
    expect(rowOf(table, 'sharded: targets owned, summed (each replica)')).toContain('| 110 (60 + 50) |');
    expect(rowOf(table, 'sharded: peak RSS (VmHWM), summed / the largest replica')).toContain('| 250.0 MB / 130.0 MB |');
    expect(rowOf(table, 'sharded: scrape size per replica, plain')).toContain('| 2.00 MB, 1.50 MB |');
    expect(rowOf(table, 'ratio sharded / single: total CPU per host-round')).toContain('| 1.25x |');
  });

  it('says MISMATCH when the replicas do not own every target once', () => {
    const replicas = [replica({ targetsOwned: 60, targetsConfigured: 110 }), replica({ targetsOwned: 45, targetsConfigured: 110 })];
    const table = renderTable([scenario({ ...window, shards: 2, replicas })], [0.001]);
    expect(rowOf(table, 'sharded: targets owned, summed (each replica)')).toContain('**MISMATCH**: the replicas own 105 targets together, the config has 110 (60 + 45)');
  });
});
