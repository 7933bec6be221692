// What a heap snapshot holds, by constructor (or V8's node type for the rest), and what
// grows between two: `node --import tsx bench/heap-summary.ts A.heapsnapshot [B.heapsnapshot
// HOSTS_A HOSTS_B]`. With two, each line is what B holds beyond A, per host of the
// difference: the objects a host costs. Self sizes only (what each object is itself).
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

interface Group {
  count: number;
  bytes: number;
}

/** Self size and count per `type:name` (objects by constructor, strings, arrays, code, native). */
export function groupSnapshot(file: string): Map<string, Group> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const groups = new Map<string, Group>();
  for (let i = 0; i < snap.nodes.length; i += stride) {
    const type = types[snap.nodes[i + typeAt] as number] ?? '?';
    const rawName = snap.strings[snap.nodes[i + nameAt] as number] ?? '';
    // Strings and code are grouped by type alone: their names are their contents.
    const name = type === 'object' || type === 'native' || type === 'closure' || type === 'hidden' || type === 'object shape' ? rawName.slice(0, 60) : '';
    const key = `${type}${name === '' ? '' : `:${name}`}`;
    const group = groups.get(key) ?? { count: 0, bytes: 0 };
    group.count += 1;
    group.bytes += snap.nodes[i + sizeAt] as number;
    groups.set(key, group);
  }
  return groups;
}

function main(): void {
  const [a, b, hostsA, hostsB] = process.argv.slice(2);
  if (a === undefined) {
    process.stderr.write('usage: node --import tsx bench/heap-summary.ts A.heapsnapshot [B.heapsnapshot HOSTS_A HOSTS_B]\n');
    process.exit(2);
  }
  const first = groupSnapshot(a);
  const total = (g: Map<string, Group>): number => [...g.values()].reduce((sum, x) => sum + x.bytes, 0);
  if (b === undefined) {
    process.stdout.write(`${a}: ${(total(first) / 1e6).toFixed(1)} MB\n`);
    for (const [key, g] of [...first].sort((x, y) => y[1].bytes - x[1].bytes).slice(0, 40)) {
      process.stdout.write(`${(g.bytes / 1e6).toFixed(2).padStart(9)} MB ${String(g.count).padStart(9)}  ${key}\n`);
    }
    return;
  }
  const second = groupSnapshot(b);
  const hosts = Number(hostsB) - Number(hostsA);
  if (!(hosts > 0)) throw new Error('HOSTS_B must be larger than HOSTS_A');
  process.stdout.write(`${a}: ${(total(first) / 1e6).toFixed(1)} MB; ${b}: ${(total(second) / 1e6).toFixed(1)} MB; ${((total(second) - total(first)) / hosts).toFixed(0)} bytes a host\n`);
  const keys = new Set([...first.keys(), ...second.keys()]);
  const rows = [...keys].map((key) => {
    const x = first.get(key) ?? { count: 0, bytes: 0 };
    const y = second.get(key) ?? { count: 0, bytes: 0 };
    return { key, bytes: (y.bytes - x.bytes) / hosts, count: (y.count - x.count) / hosts };
  });
  process.stdout.write('bytes/host  objects/host  group\n');
  for (const r of rows.sort((x, y) => y.bytes - x.bytes).slice(0, 50)) {
    process.stdout.write(`${r.bytes.toFixed(0).padStart(10)}  ${r.count.toFixed(2).padStart(12)}  ${r.key}\n`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === new URL(process.argv[1], 'file://').href) main();
else if (process.argv[1]?.endsWith('heap-summary.ts') === true) main();
