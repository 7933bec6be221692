// The latencies metrics.histograms can turn on, and their default buckets: named here,
// below config (which validates them) and metrics (which renders them).

export const HISTOGRAM_NAMES = ['probe', 'dns_lookup', 'tcp_connect', 'tls_handshake', 'http', 'round'] as const;
export type HistogramName = (typeof HISTOGRAM_NAMES)[number];

/** Default histogram buckets, in seconds: loopback connects take ~0.2 ms, intercontinental ones ~300 ms, a stalled path hits the deadline. */
export const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
