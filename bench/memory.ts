// Where the exporter's resident memory is, asked of bench/memory-probe.mjs (preloaded with
// --memory) at the end of the measured window: the figures it answers, and the flags
// that preload it.
import type { Child } from './processes.js';

export const MEMORY_PROBE = new URL('./memory-probe.mjs', import.meta.url).pathname;

/** The node flags that preload the probe; its IPC channel comes from spawning with `ipc`. */
export const MEMORY_PROBE_FLAGS: readonly string[] = ['--expose-gc', '--import', MEMORY_PROBE];

export interface MemorySample {
  /** /proc/self/status: VmRSS, RssAnon, RssFile, VmHWM (bytes). */
  status: Record<string, number>;
  rss: number;
  /** The main thread's V8 heap after a full GC: used and committed. */
  heapUsed: number;
  heapTotal: number;
  /** Memory V8 knows is held outside its heap (array buffers, strings of native code), process-wide. */
  external: number;
  arrayBuffers: number;
  /** malloc'd by V8 itself (not the rest of the process). */
  malloced: number;
  spaces: Record<string, { size: number; used: number }>;
  /** The scrape assembler's worker thread(s): its heap snapshot's size. */
  workers: Array<{ heapBytes: number }>;
  /** Heap snapshot files left behind (--heap-snapshot). */
  snapshots: string[];
  error?: string;
}

/** Asks the preloaded probe; `keep` leaves the heap snapshots in `dir`. */
export function askMemory(exporter: Child, dir: string, keep: boolean, timeoutMs = 300_000): Promise<MemorySample> {
  const proc = exporter.process;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.off('message', onMessage);
      reject(new Error(`the exporter's memory probe did not answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const onMessage = (message: unknown): void => {
      if (typeof message !== 'object' || message === null || !('memory' in message)) return;
      clearTimeout(timer);
      proc.off('message', onMessage);
      const sample = (message as { memory: MemorySample }).memory;
      if (sample.error !== undefined) reject(new Error(`the exporter's memory probe failed: ${sample.error}`));
      else resolve(sample);
    };
    proc.on('message', onMessage);
    proc.send({ memory: true, dir, keep });
  });
}
