// The bench's command line: `npm run bench -- [flags]`.
import { resolve } from 'node:path';
import { duration, integer, parseCommandLine, UsageError } from '../src/commands/flags.js';

export const USAGE = `usage: npm run bench -- [flags]

Runs the exporter (a child process, on its own schedule) against servers it starts on
loopback, then Debian's prometheus-blackbox-exporter over the same hosts, and prints a table.

Flags:
  --hosts LIST              host counts, one scenario each (default 100,1000)
  --interval DURATION       the exporter's interval (default 60s)
  --intervals N             whole intervals measured per run, after one of warm-up (default 2)
  --scrape-interval DURATION  scrape every this while rounds run (default 15s, or --interval
                            when that is shorter)
  --scrape-samples N        scrapes of each kind (gzip, plain) timed for the p99 (default 100)
  --quiet N                 quiet targets for the measurement skew (default 10)
  --quick                   a short smoke run: --hosts 20 --interval 10s --intervals 1
                            --scrape-interval 5s --scrape-samples 20 --quiet 4 (flags given win)
  --cpu-prof                profile the exporter (node --cpu-prof) and print its top 15 functions
                            (no extra scrapes then; the profiler's cost shows in the CPU figures)
  --memory                  after each window, ask the exporter where its memory is (a full GC,
                            then the main heap, external memory, the worker thread's heap;
                            node --expose-gc and a preloaded probe, bench/memory-probe.mjs)
  --heap-snapshot           --memory, and keep heap snapshots of the main and worker threads in
                            the run directory (summarise them with bench/heap-summary.ts)
  --no-reachability         skip the reachability-only run of each scenario
  --node-flag FLAG          a node or V8 flag for the exporter, after src/node-flags.ts's
                            (repeatable), e.g. --node-flag=--heap-growing-percent=30
  --no-blackbox             skip the blackbox_exporter comparison
  --shards N                after each scenario's run, N replicas (2 to 8) side by side on the
                            same config, each with --shard i --total-shards N and its own port;
                            their summed CPU and memory go in the table beside the single process
  --exporter DIR            the checkout to build and run (default: this one)
  --no-build                run DIR/dist/cli.js as it is, without npm run build
  --reachability-yaml YAML  top-level config lines added to the reachability-only run
  -h, --help                print this help
`;

export interface BenchFlags {
  hosts: number[];
  intervalMs: number;
  intervals: number;
  scrapeEveryMs: number;
  scrapeSamples: number;
  quiet: number;
  quick: boolean;
  cpuProfile: boolean;
  /** undefined: no memory probe. */
  memory: { snapshots: boolean } | undefined;
  reachability: boolean;
  /** Node flags added to the exporter's own (src/node-flags.ts). */
  nodeFlags: string[];
  blackbox: boolean;
  /** Replicas of the sharded run; undefined: no sharded run. */
  shards: number | undefined;
  exporterDir: string;
  build: boolean;
  reachabilityYaml: string | undefined;
  help: boolean;
}

export function parseBenchFlags(argv: string[], repoDir: string): BenchFlags {
  const v = parseCommandLine(argv, {
    hosts: { type: 'string' },
    interval: { type: 'string' },
    intervals: { type: 'string' },
    'scrape-interval': { type: 'string' },
    'scrape-samples': { type: 'string' },
    quiet: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    memory: { type: 'boolean', default: false },
    'heap-snapshot': { type: 'boolean', default: false },
    'no-reachability': { type: 'boolean', default: false },
    'node-flag': { type: 'string', multiple: true, default: [] },
    'no-blackbox': { type: 'boolean', default: false },
    shards: { type: 'string' },
    exporter: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    'reachability-yaml': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const quick = v.quick;
  const hosts = (v.hosts ?? (quick ? '20' : '100,1000')).split(',').map((h) => integer('hosts', h.trim(), 1, 20_000));
  const intervalMs = duration('interval', v.interval ?? (quick ? '10s' : '60s'), 2000);
  const given = v['scrape-interval'];
  const scrapeEveryMs = given === undefined ? Math.min(quick ? 5000 : 15_000, intervalMs) : duration('scrape-interval', given, 1000);
  if (scrapeEveryMs > intervalMs) throw new UsageError(`--scrape-interval: must not be longer than --interval (${intervalMs / 1000}s), got ${scrapeEveryMs / 1000}s`);
  return {
    hosts,
    intervalMs,
    intervals: integer('intervals', v.intervals ?? (quick ? '1' : '2'), 1, 60),
    scrapeEveryMs,
    scrapeSamples: integer('scrape-samples', v['scrape-samples'] ?? (quick ? '20' : '100'), 0, 10_000),
    quiet: integer('quiet', v.quiet ?? (quick ? '4' : '10'), 1, 100),
    quick,
    cpuProfile: v['cpu-prof'],
    memory: v.memory || v['heap-snapshot'] ? { snapshots: v['heap-snapshot'] } : undefined,
    reachability: !v['no-reachability'],
    nodeFlags: v['node-flag'],
    blackbox: !v['no-blackbox'],
    shards: v.shards === undefined ? undefined : integer('shards', v.shards, 2, 8),
    exporterDir: resolve(v.exporter ?? repoDir),
    build: !v['no-build'],
    reachabilityYaml: v['reachability-yaml'],
    help: v.help,
  };
}
