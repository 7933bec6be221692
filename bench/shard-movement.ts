// The numbers of docs/sharding.md: how many targets change owner when the shard count
// grows, with the exporter's rendezvous hashing and with `hash mod N` (kube-state-metrics'
// way), over 10,000 synthetic targets; and how long one replica takes to find its share
// of 5,000 targets among 10 shards. Prints a table; asserts nothing (the assertions are
// in src/shard/assignment.test.ts).
//
//   node --import tsx bench/shard-movement.ts
import { ownedTargets, ownerOf, shardKey } from '../src/shard/assignment.js';

const KEYS = Array.from({ length: 10_000 }, (_, i) =>
  i % 2 === 0 ? `host-${i}.svc${i % 7}.example.com:443` : shardKey({ host: `10.${(i >> 8) & 255}.${i & 255}.${i % 250}`, port: 443 + (i % 3) }),
);

/** FNV-1a of the key modulo the count: what "hash mod N" means here. */
function moduloOwner(key: string, total: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % total;
}

const moved = (owner: (key: string, total: number) => number, from: number, to: number): number =>
  KEYS.filter((key) => owner(key, from) !== owner(key, to)).length / KEYS.length;

const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;

console.log('| shards | rendezvous (this exporter) | hash mod N | ideal (1/N) |');
console.log('|---|---|---|---|');
for (const [from, to] of [
  [1, 2],
  [2, 3],
  [3, 4],
  [4, 5],
  [9, 10],
] as const) {
  console.log(`| ${from} -> ${to} | ${percent(moved(ownerOf, from, to))} | ${percent(moved(moduloOwner, from, to))} | ${percent(1 / to)} |`);
}

// One replica's share: what the exporter computes at start and on every reload.
const targets = Array.from({ length: 5_000 }, (_, i) => ({ host: `h${i}.example.com`, port: 443 }));
const runs: number[] = [];
for (let run = 0; run < 21; run++) {
  const started = process.hrtime.bigint();
  ownedTargets(targets, { ordinal: run % 10, total: 10 });
  runs.push(Number(process.hrtime.bigint() - started) / 1e6);
}
runs.sort((a, b) => a - b);
console.log(`\none replica's share of 5,000 targets over 10 shards: median ${runs[10]!.toFixed(2)} ms, max ${runs[20]!.toFixed(2)} ms (21 runs, the first one cold)`);
