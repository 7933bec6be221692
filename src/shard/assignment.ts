// Which replica probes which target: rendezvous (highest random weight) hashing of
// the target's host:port over the shard ordinals 0..total-1. Each target goes to the
// shard that scores it highest, so adding shard N takes from every old shard only the
// targets N now wins (about 1/(N+1) of them) and moves nothing between the old ones;
// `hash mod N` would move most targets (docs/sharding.md has the measured table).
// Pure and fixed: replicas of any version must agree, so the hash must never change
// (assignment.test.ts pins owners of known keys).
import { hostPort } from '../host-port.js';

/** This replica's place: shard `ordinal` of `total` (0 <= ordinal < total). */
export interface Shard {
  ordinal: number;
  total: number;
}

/** A target's identity for sharding: host and port as src/host-port.ts writes them. */
export function shardKey(target: { host: string; port: number }): string {
  return hostPort(target.host, target.port);
}

/** FNV-1a over the key's UTF-16 code units (keys are normalised host names and IP literals: ASCII). */
function fnv1a(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's 32-bit finaliser: a bijection in which every input bit flips about half the output bits. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The weight of shard `ordinal` for a key whose hash is `keyHash`. */
function score(keyHash: number, ordinal: number): number {
  // Each ordinal gets its own well-spread constant, so scores of one key are unrelated across shards.
  return mix(keyHash ^ mix(ordinal + 0x9e3779b9));
}

/** The shard (0..total-1) that owns `key`. Ties (2^-32 a pair) go to the lower ordinal. */
export function ownerOf(key: string, total: number): number {
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`total shards must be a positive integer, got ${total}`);
  const keyHash = mix(fnv1a(key));
  let best = 0;
  let bestScore = score(keyHash, 0);
  for (let ordinal = 1; ordinal < total; ordinal++) {
    const s = score(keyHash, ordinal);
    if (s > bestScore) {
      best = ordinal;
      bestScore = s;
    }
  }
  return best;
}

/** The targets `shard` schedules, in their order; every target when unsharded (null). */
export function ownedTargets<T extends { host: string; port: number }>(targets: readonly T[], shard: Shard | null): T[] {
  if (shard === null || shard.total === 1) return [...targets];
  return targets.filter((target) => ownerOf(shardKey(target), shard.total) === shard.ordinal);
}
