// Every check runs under a hard deadline. The probe gets an AbortSignal; if it
// ignores it (a bug), the watchdog still settles the check shortly after.

import { onAbort } from '../probes/abort.js';

const SETTLED = new DOMException('the check settled', 'AbortError');

/** Grace after the deadline before the watchdog gives up on a probe. */
export const WATCHDOG_GRACE_MS = 1000;

export interface DeadlineOutcome<T> {
  value: T;
  /** True when the probe did not settle and the watchdog answered instead. */
  abandoned: boolean;
}

export async function withDeadline<T>(
  run: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  parent: AbortSignal,
  onAbandon: (error?: unknown) => T,
): Promise<DeadlineOutcome<T>> {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  const timer = setTimeout(abort, timeoutMs);
  let forget = (): void => undefined;
  if (parent.aborted) abort();
  else forget = onAbort(parent, abort);
  let watchdog: NodeJS.Timeout | undefined;
  try {
    const probe = run(controller.signal).then(
      (value) => ({ value, abandoned: false }),
      // Probes do not throw for network failures; a throw is a bug, reported as one.
      (error: unknown) => ({ value: onAbandon(error), abandoned: true }),
    );
    const guard = new Promise<DeadlineOutcome<T>>((resolve) => {
      watchdog = setTimeout(() => resolve({ value: onAbandon(), abandoned: true }), timeoutMs + WATCHDOG_GRACE_MS);
      watchdog.unref();
    });
    return await Promise.race([probe, guard]);
  } finally {
    clearTimeout(timer);
    clearTimeout(watchdog);
    forget();
    // Whatever the probe left listening stops now. A reason of our own: abort() alone builds a DOMException with a stack each time.
    controller.abort(SETTLED);
  }
}
