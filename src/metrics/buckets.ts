// Histogram buckets, in seconds. Loopback connects take ~0.2 ms and
// intercontinental ones ~300 ms; a stalled path hits the deadline (10 s default).
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// Whole checks include several round trips (TLS runs many handshakes).
export const PROBE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
