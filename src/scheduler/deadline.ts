// Every check runs under a hard deadline. The probe gets an AbortSignal; if it
// ignores it (a bug), the watchdog still settles the check shortly after.

import { deadlineSignal } from '../async/abort.js';

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
  const deadline = deadlineSignal(parent, timeoutMs);
  let watchdog: NodeJS.Timeout | undefined;
  try {
    const probe = run(deadline.signal).then(
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
    clearTimeout(watchdog);
    // Whatever the probe left listening stops now.
    deadline.release(SETTLED);
  }
}
