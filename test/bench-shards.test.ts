// The bench's sharded run, the parts that need no exporter: its flag, and how the
// replicas' readings add up (and say so when they do not cover the targets once).
import { describe, expect, it } from 'vitest';
import { parseBenchFlags } from '../bench/flags.js';
import type { ProcessWindow } from '../bench/exporter-process.js';
import { shardTotals } from '../bench/shard-run.js';
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

describe('bench --shards', () => {
  it('is off by default and takes 2 to 8 replicas', () => {
    expect(parseBenchFlags([], '/repo').shards).toBeUndefined();
    expect(parseBenchFlags(['--shards', '3'], '/repo').shards).toBe(3);
    expect(() => parseBenchFlags(['--shards', '1'], '/repo')).toThrow(UsageError);
    expect(() => parseBenchFlags(['--shards', '9'], '/repo')).toThrow(UsageError);
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
