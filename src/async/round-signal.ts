// The signal a round run on demand (/probe, the check command) gives its checks.
// Every check in flight listens on it, once in the deadline and once while it
// waits for a concurrency slot: dozens at once with six hosts or six proxies,
// each removed when its check ends. That is by design, not a leak, so the
// signal has no listener limit (the scheduler's signal has none either), and
// Node's MaxListenersExceededWarning, meant for leaks, never fires on it.
import { setMaxListeners } from 'node:events';

/** Aborts when any of `sources` does; any number of listeners. */
export function roundSignal(...sources: AbortSignal[]): AbortSignal {
  const signal = AbortSignal.any(sources);
  setMaxListeners(0, signal);
  return signal;
}
