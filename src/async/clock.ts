// Probe timing: monotonic (a clock step must not make a phase negative), in seconds
// as the metrics want them.

/** Seconds from `start` (a process.hrtime.bigint() mark) until now, or until `end`. */
export function secondsSince(start: bigint, end: bigint = process.hrtime.bigint()): number {
  return Number(end - start) / 1e9;
}
