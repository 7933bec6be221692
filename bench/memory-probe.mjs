// Preloaded into the exporter by the bench with --memory (node --expose-gc --import): at the
// end of the measured window it answers where the resident memory is. It runs a full GC
// first, so heap figures are what is really retained, then reads the main thread's V8
// heap, the process's external and array-buffer memory, /proc's RSS split (anonymous,
// file) and the scrape assembler's worker thread's heap (from a heap snapshot of it: Node
// 20 has no other reading of another thread's heap). Asked with a directory, it leaves
// both heap snapshots there, to compare what grows per host.
import { createWriteStream, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { syncBuiltinESMExports } from 'node:module';
import workerThreads from 'node:worker_threads';

// The exporter's workers, kept so that their heaps can be read: the class is replaced before
// any module of the exporter imports it (this module is preloaded).
const workers = new Set();
const Original = workerThreads.Worker;
workerThreads.Worker = class TrackedWorker extends Original {
  constructor(...args) {
    super(...args);
    workers.add(this);
    this.once('exit', () => workers.delete(this));
  }
};
syncBuiltinESMExports();

function procStatus() {
  const out = {};
  for (const line of readFileSync('/proc/self/status', 'utf8').split('\n')) {
    const m = /^(VmRSS|RssAnon|RssFile|VmHWM):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]] = Number(m[2]) * 1024;
  }
  return out;
}

/**
 * Resident memory by kind of mapping (/proc/self/smaps): file-backed, malloc's main heap,
 * thread stacks, and anonymous mappings by size (V8 pages are 256 KB multiples; a thread's
 * malloc arena lives in a 64 MB reservation), with the largest anonymous ones.
 */
function mappings() {
  const groups = {};
  const anon = [];
  let current;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head) {
      const size = parseInt(head[2], 16) - parseInt(head[1], 16);
      const name = head[5];
      let kind = 'anon';
      if (name === '[heap]') kind = 'malloc main heap';
      else if (name.startsWith('[stack')) kind = 'stack';
      else if (name.startsWith('/')) kind = 'file';
      else if (name !== '') kind = name;
      current = { kind, size, perms: head[3], rss: 0 };
      if (kind === 'anon') anon.push(current);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && current) {
      current.rss = Number(rss[1]) * 1024;
      const key = current.kind === 'anon' ? `anon ${current.size % (256 * 1024) === 0 && current.size < 64 * 2 ** 20 ? '256 KB multiple' : current.size >= 60 * 2 ** 20 ? '>= 60 MB' : 'other size'}` : current.kind;
      groups[key] = (groups[key] ?? 0) + current.rss;
    }
  }
  anon.sort((a, b) => b.rss - a.rss);
  return { groups, largestAnon: anon.slice(0, 12).map(({ size, perms, rss }) => ({ size, perms, rss })) };
}

/** Self sizes of a heap snapshot's nodes, summed (its heap, array-buffer contents included). */
function snapshotBytes(file) {
  const snapshot = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snapshot.snapshot.meta.node_fields;
  const stride = fields.length;
  const at = fields.indexOf('self_size');
  const nodes = snapshot.nodes;
  let total = 0;
  for (let i = at; i < nodes.length; i += stride) total += nodes[i];
  return total;
}

/** `dir`: where the worker's snapshot goes; `keep`: leave it there, and the main thread's beside it. */
async function sample(dir, keep) {
  globalThis.gc?.();
  const memory = process.memoryUsage();
  const heap = getHeapStatistics();
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]));
  const out = {
    status: procStatus(),
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    malloced: heap.malloced_memory,
    spaces,
    workers: [],
    snapshots: [],
    mappings: mappings(),
  };
  if (keep) out.snapshots.push(writeHeapSnapshot(join(dir, `main-${process.pid}.heapsnapshot`)));
  let n = 0;
  for (const worker of workers) {
    n += 1;
    const file = join(dir, `worker${n}-${process.pid}.heapsnapshot`);
    await pipeline(await worker.getHeapSnapshot(), createWriteStream(file));
    out.workers.push({ heapBytes: snapshotBytes(file), ...(worker.resourceLimits ?? {}) });
    if (keep) out.snapshots.push(file);
    else rmSync(file, { force: true });
  }
  return out;
}

process.on('message', (message) => {
  if (typeof message !== 'object' || message === null || message.memory !== true) return;
  sample(message.dir, message.keep === true).then(
    (result) => process.send?.({ memory: result }),
    (error) => process.send?.({ memory: { error: String(error?.stack ?? error) } }),
  );
});
// The channel must not keep an exporter alive that was told to stop.
process.channel?.unref();
