import { describe, expect, it } from 'vitest';
import { ownedTargets, ownerOf, shardKey } from './assignment.js';

/** 10,000 synthetic targets: names and IP literals, a few ports. */
const KEYS = Array.from({ length: 10_000 }, (_, i) =>
  i % 2 === 0 ? `host-${i}.svc${i % 7}.example.com:443` : shardKey({ host: `10.${(i >> 8) & 255}.${i & 255}.${i % 250}`, port: 443 + (i % 3) }),
);

/** The fraction of keys whose owner differs between `from` and `to` shards, under `owner`. */
function moved(owner: (key: string, total: number) => number, from: number, to: number): number {
  let n = 0;
  for (const key of KEYS) if (owner(key, from) !== owner(key, to)) n++;
  return n / KEYS.length;
}

/** What the README compares with: a hash of the key modulo the shard count (kube-state-metrics' way). */
function moduloOwner(key: string, total: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % total;
}

describe('ownerOf (rendezvous hashing)', () => {
  it('keys a target by host:port as host-port.ts writes it', () => {
    expect(shardKey({ host: 'cgr.dev', port: 443 })).toBe('cgr.dev:443');
    expect(shardKey({ host: '2001:db8::1', port: 443 })).toBe('[2001:db8::1]:443');
  });

  it('never changes: replicas of different versions must agree (a change here reshards every installation)', () => {
    const owners = ['cgr.dev:443', 'apk.cgr.dev:443', '127.0.0.1:8443', '[2001:db8::1]:443', 'registry.example.com:5000'].map((key) => [
      ownerOf(key, 3),
      ownerOf(key, 4),
      ownerOf(key, 10),
    ]);
    expect(owners).toEqual([
      [2, 2, 2],
      [1, 1, 4],
      [1, 1, 1],
      [0, 0, 0],
      [1, 3, 3],
    ]);
  });

  it('gives one shard everything, and rejects a shard count below 1', () => {
    expect(KEYS.every((key) => ownerOf(key, 1) === 0)).toBe(true);
    expect(() => ownerOf('cgr.dev:443', 0)).toThrow('total shards must be a positive integer, got 0');
    expect(() => ownerOf('cgr.dev:443', 1.5)).toThrow(RangeError);
  });

  it('spreads targets as evenly as a random draw would (chi-square below its 0.1% critical value)', () => {
    // Critical values of chi-square at p = 0.001 by degrees of freedom (shards - 1).
    const critical: Record<number, number> = { 1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47, 9: 27.88 };
    for (const total of [2, 3, 4, 5, 10]) {
      const counts = new Array<number>(total).fill(0);
      for (const key of KEYS) counts[ownerOf(key, total)]! += 1;
      const share = KEYS.length / total;
      const chiSquare = counts.reduce((sum, count) => sum + (count - share) ** 2 / share, 0);
      expect(chiSquare, `${total} shards: ${counts.join(' ')}`).toBeLessThan(critical[total - 1]!);
    }
  });

  // The measured movement (docs/sharding.md's table): adding shard N moves about 1/N.
  for (const [from, to] of [
    [1, 2],
    [3, 4],
    [4, 5],
    [9, 10],
  ] as const) {
    it(`moves at most 1/${to} (+2%) of 10,000 targets from ${from} to ${to} shards, all of them to the new shard; hash mod N moves far more`, () => {
      const fraction = moved(ownerOf, from, to);
      expect(fraction).toBeLessThanOrEqual(1 / to + 0.02);
      expect(fraction).toBeGreaterThanOrEqual(1 / to - 0.02);
      // Rendezvous: a target either stays or goes to the new shard, never between old ones.
      for (const key of KEYS) {
        const before = ownerOf(key, from);
        const after = ownerOf(key, to);
        if (before !== after) expect(after, key).toBe(to - 1);
      }
      // hash mod N moves (N-1)/N going N -> N+1 (1->2 is the one case where both move half).
      const modulo = moved(moduloOwner, from, to);
      if (from > 1) expect(modulo).toBeGreaterThan(0.7);
      expect(modulo).toBeGreaterThanOrEqual(fraction - 0.02);
    });
  }
});

describe('ownedTargets', () => {
  const targets = KEYS.slice(0, 300).map((key, i) => ({ host: `t${i}.example.com`, port: 443 + (i % 2), key }));

  it('splits the targets into disjoint shares that cover all of them, each in config order', () => {
    const shares = [0, 1, 2].map((ordinal) => ownedTargets(targets, { ordinal, total: 3 }));
    expect(shares.flat().length).toBe(targets.length);
    expect(new Set(shares.flat()).size).toBe(targets.length);
    for (const share of shares) {
      expect(share.length).toBeGreaterThan(0);
      expect(share.map((t) => targets.indexOf(t))).toEqual([...share.map((t) => targets.indexOf(t))].sort((a, b) => a - b));
    }
  });

  it('keeps every target unsharded or with one shard', () => {
    expect(ownedTargets(targets, null)).toEqual(targets);
    expect(ownedTargets(targets, { ordinal: 0, total: 1 })).toEqual(targets);
  });

  it('gives the same port of two hosts, and two ports of one host, owners of their own', () => {
    // host:port is the identity: the registry on :5000 and the web on :443 of one host may part.
    const owners = new Set(Array.from({ length: 40 }, (_, port) => ownerOf(shardKey({ host: 'cgr.dev', port: 1000 + port }), 4)));
    expect(owners.size).toBe(4);
  });
});
