// --shard, --total-shards and --shard.from-pod-name, read into this replica's shard.
// Every combination that cannot mean one thing is refused with a message that names
// the flags: a replica that guesses its shard leaves targets nobody probes.
import type { Shard } from './assignment.js';
import { ordinalFromPodName } from './pod-ordinal.js';

/** Far more than one catalog needs; a typo (30000) should not start 30000-way sharding. */
export const MAX_SHARDS = 1000;

export class ShardFlagError extends Error {}

export interface ShardFlags {
  shard?: string | undefined;
  totalShards?: string | undefined;
  fromPodName?: string | undefined;
}

function totalFrom(text: string): number {
  if (!/^\d{1,9}$/.test(text)) throw new ShardFlagError(`--total-shards: expected a whole number of shards (1 or more), got ${JSON.stringify(text)}`);
  const total = Number(text);
  if (total < 1) throw new ShardFlagError(`--total-shards=${text}: expected 1 or more shards`);
  if (total > MAX_SHARDS) throw new ShardFlagError(`--total-shards=${text}: at most ${MAX_SHARDS} shards`);
  return total;
}

const numbered = (total: number): string => (total === 1 ? 'the one shard is 0' : `shards are numbered 0 to ${total - 1}`);

/** This replica's shard, or null when no flag asks for sharding (every target is its own). */
export function shardFromFlags(flags: ShardFlags): Shard | null {
  const { shard, totalShards, fromPodName } = flags;
  if (shard === undefined && totalShards === undefined && fromPodName === undefined) return null;
  if (shard !== undefined && fromPodName !== undefined) {
    throw new ShardFlagError('--shard and --shard.from-pod-name both say which shard this replica is: give one of them');
  }
  if (shard !== undefined && !/^\d{1,9}$/.test(shard)) throw new ShardFlagError(`--shard: expected a shard ordinal (0, 1, ...), got ${JSON.stringify(shard)}`);
  if (totalShards === undefined) {
    if (shard !== undefined) throw new ShardFlagError(`--shard=${shard} needs --total-shards (how many shards there are)`);
    throw new ShardFlagError("--shard.from-pod-name needs --total-shards (the StatefulSet's replicas)");
  }
  const total = totalFrom(totalShards);
  if (shard !== undefined) {
    const ordinal = Number(shard);
    if (ordinal >= total) throw new ShardFlagError(`--shard=${shard} is not below --total-shards=${total}: ${numbered(total)}`);
    return { ordinal, total };
  }
  if (fromPodName !== undefined) {
    const ordinal = ordinalFromPodName(fromPodName);
    if (ordinal >= total) {
      throw new ShardFlagError(
        `--shard.from-pod-name=${fromPodName} gives shard ${ordinal}, not below --total-shards=${total}: ${numbered(total)} (is --total-shards the StatefulSet's replicas?)`,
      );
    }
    return { ordinal, total };
  }
  if (total > 1) throw new ShardFlagError(`--total-shards=${total} needs --shard or --shard.from-pod-name (which of the ${total} shards this replica is)`);
  return { ordinal: 0, total: 1 };
}
