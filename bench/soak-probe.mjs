// Preloaded into the daemon by bench/soak.ts (node --expose-gc --import): answers the
// soak's IPC questions about this process. `sample` reads fds and handles as they are;
// `sample-gc` first runs a full GC, so the heap figure is what is really retained;
// `{ snapshot: FILE }` writes a heap snapshot there (to find what a growing heap holds).
import { readFileSync, readdirSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';

function status() {
  const out = {};
  for (const line of readFileSync('/proc/self/status', 'utf8').split('\n')) {
    const m = /^(VmRSS|RssAnon|RssFile|VmHWM):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]] = Number(m[2]) * 1024;
  }
  return out;
}

process.on('message', (message) => {
  if (typeof message === 'object' && message !== null && typeof message.snapshot === 'string') {
    globalThis.gc?.();
    process.send?.({ snapshot: writeHeapSnapshot(message.snapshot) });
    return;
  }
  if (message !== 'sample' && message !== 'sample-gc') return;
  if (message === 'sample-gc') globalThis.gc?.();
  const memory = process.memoryUsage();
  const resources = {};
  for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1;
  process.send?.({
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    fds: readdirSync('/proc/self/fd').length,
    // The IPC channel to the soak is one of them, on every sample alike.
    handles: process._getActiveHandles().length,
    resources,
    status: status(),
  });
});
// The channel must not keep a daemon alive that was told to stop.
process.channel?.unref();
