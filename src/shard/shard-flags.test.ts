import { describe, expect, it } from 'vitest';
import { shardFromFlags, ShardFlagError } from './shard-flags.js';
import { PodNameError } from './pod-ordinal.js';

/** The message shardFromFlags refuses `flags` with (it must refuse them). */
function refusal(flags: Parameters<typeof shardFromFlags>[0]): string {
  try {
    shardFromFlags(flags);
  } catch (error) {
    expect(error instanceof ShardFlagError || error instanceof PodNameError, String(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(flags)}`);
}

describe('shardFromFlags', () => {
  it('is unsharded without any flag', () => {
    expect(shardFromFlags({})).toBeNull();
  });

  it('takes --shard with --total-shards, or the ordinal of --shard.from-pod-name', () => {
    expect(shardFromFlags({ shard: '2', totalShards: '3' })).toEqual({ ordinal: 2, total: 3 });
    expect(shardFromFlags({ shard: '0', totalShards: '1' })).toEqual({ ordinal: 0, total: 1 });
    expect(shardFromFlags({ fromPodName: 'egress-exporter-1', totalShards: '4' })).toEqual({ ordinal: 1, total: 4 });
    // One shard, said outright: shard 0 of 1.
    expect(shardFromFlags({ totalShards: '1' })).toEqual({ ordinal: 0, total: 1 });
  });

  // Each combination that cannot mean one thing, with its exact message.
  const refused: Array<[string, Parameters<typeof shardFromFlags>[0], string]> = [
    ['--shard without --total-shards', { shard: '3' }, '--shard=3 needs --total-shards (how many shards there are)'],
    ['--shard.from-pod-name without --total-shards', { fromPodName: 'egress-exporter-0' }, "--shard.from-pod-name needs --total-shards (the StatefulSet's replicas)"],
    ['--total-shards above 1 alone', { totalShards: '3' }, '--total-shards=3 needs --shard or --shard.from-pod-name (which of the 3 shards this replica is)'],
    ['shard equal to total', { shard: '3', totalShards: '3' }, '--shard=3 is not below --total-shards=3: shards are numbered 0 to 2'],
    ['shard above total', { shard: '1', totalShards: '1' }, '--shard=1 is not below --total-shards=1: the one shard is 0'],
    ['total of 0', { shard: '0', totalShards: '0' }, '--total-shards=0: expected 1 or more shards'],
    ['total not a number', { shard: '0', totalShards: 'three' }, '--total-shards: expected a whole number of shards (1 or more), got "three"'],
    ['negative total', { shard: '0', totalShards: '-1' }, '--total-shards: expected a whole number of shards (1 or more), got "-1"'],
    ['too many shards', { shard: '0', totalShards: '30000' }, '--total-shards=30000: at most 1000 shards'],
    ['shard not a number', { shard: 'x', totalShards: '3' }, '--shard: expected a shard ordinal (0, 1, ...), got "x"'],
    ['negative shard', { shard: '-1', totalShards: '3' }, '--shard: expected a shard ordinal (0, 1, ...), got "-1"'],
    [
      'both --shard and --shard.from-pod-name',
      { shard: '1', fromPodName: 'egress-exporter-1', totalShards: '3' },
      '--shard and --shard.from-pod-name both say which shard this replica is: give one of them',
    ],
    [
      'a pod ordinal beyond the total',
      { fromPodName: 'egress-exporter-3', totalShards: '3' },
      "--shard.from-pod-name=egress-exporter-3 gives shard 3, not below --total-shards=3: shards are numbered 0 to 2 (is --total-shards the StatefulSet's replicas?)",
    ],
    [
      'a pod name without an ordinal',
      { fromPodName: 'egress-exporter', totalShards: '3' },
      '--shard.from-pod-name: "egress-exporter" has no ordinal: expected a StatefulSet pod name ending in -N, such as egress-exporter-0',
    ],
  ];
  for (const [what, flags, message] of refused) {
    it(`refuses ${what}`, () => {
      expect(refusal(flags)).toBe(message);
    });
  }
});
