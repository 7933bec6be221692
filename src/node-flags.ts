// The node flags the daemon is started with: `npm start`, the container's ENTRYPOINT, the
// bench and the soak all use these (test/deploy.test.ts holds the copies to this list).
//
// --max-semi-space-size=2: V8's young generation is sized for throughput (16 MB semi-spaces
// on 64-bit), which for a daemon whose garbage is many small, short-lived objects is tens of
// MB of resident memory for nothing. Measured at 1,000 hosts (`npm run bench -- --hosts 1000
// --intervals 1 --interval 30s --no-blackbox`): peak RSS 289 -> 246 MB with every check,
// 214 -> 163 MB with the reachability checks, at the same CPU per host-round (12.1 / 11.4 ms).
//
// --heap-growing-percent=20: after each full GC V8 lets the old generation grow to up to 4x
// what survived before the next one; a burst of handshakes (the first round, every TLS
// requirement) then commits 116 MB of heap for 30-40 MB live. A fixed 1.5x first cut peak
// RSS 207 -> 157 MB at 1,000 hosts; at 5,000 the heap still committed twice what lived (136
// MB for 68), each round's report retired in old space. 1.2x: peak RSS at 5,000 hosts 302 ->
// 256 MB (41 -> 30 KB a host beyond 1,000), for about 8 % more CPU a host-round (full GCs
// more often); 1.3x: 277 MB. --optimize-for-size: 264 MB, 25 % more CPU at 1,000 hosts.
// BENCHMARKS.md has the runs.
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--heap-growing-percent=20'];
