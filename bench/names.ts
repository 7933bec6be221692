// The names the bench's DNS server answers, all with 127.0.0.1.

/** The i-th probed host: host0.bench.test, host1.bench.test, ... */
export function benchHostName(i: number): string {
  return `host${i}.bench.test`;
}

/**
 * The quiet targets, whose connect times show the measurement skew: quiet.bench.test,
 * then quiet2.bench.test, ... (more than one, so that a few intervals give a p95).
 */
export function quietHostNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? 'quiet.bench.test' : `quiet${i + 1}.bench.test`));
}
