// A probe's deadline, and the one way the probes wait for events that may come in any
// order (connect, error, close, the deadline): settle once, undo every listener.
import type { EventEmitter } from 'node:events';

const waitersOf = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `fn` once when `signal` (not aborted yet) aborts; the function returned forgets
 * it. Every waiter on a signal shares one listener: an AbortSignal keeps its listeners
 * in a list that each add and remove walks, and the scheduler's signal has a waiter per
 * sleeping target (a thousand of them made every check's add and remove cost 5 us).
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let waiters = waitersOf.get(signal);
  if (waiters === undefined) {
    const all = new Set<() => void>();
    waiters = all;
    waitersOf.set(signal, all);
    signal.addEventListener(
      'abort',
      () => {
        waitersOf.delete(signal);
        for (const waiter of [...all]) waiter();
      },
      { once: true },
    );
  }
  const mine = waiters;
  mine.add(fn);
  return () => {
    mine.delete(fn);
  };
}

/**
 * A signal that aborts with `parent` or after `ms`. `release()` drops the timer and the
 * parent's listener; `release(reason)` also aborts the signal with it, so whatever still
 * listens on it stops (a reason made once: a bare abort() builds a DOMException each time).
 */
export function deadlineSignal(parent: AbortSignal, ms: number): { signal: AbortSignal; release: (reason?: unknown) => void } {
  const ac = new AbortController();
  const abort = (): void => ac.abort();
  // No time left (an on-demand round's budget spent): aborted from the start, so a check
  // begun now reports the deadline, not whatever its first step was doing when a timer fired.
  if (parent.aborted || ms <= 0) {
    ac.abort();
    return { signal: ac.signal, release: () => undefined };
  }
  const forget = onAbort(parent, abort);
  const timer = setTimeout(abort, ms);
  return {
    signal: ac.signal,
    release: (reason?: unknown) => {
      clearTimeout(timer);
      forget();
      if (reason !== undefined) ac.abort(reason);
    },
  };
}

/**
 * A promise settled by the first of several events. `start` wires the events, calls
 * `settle` from them (only the first call counts) and returns the undo of its wiring,
 * which runs once, synchronously, with the value settled on (so a failure can destroy
 * what it opened before another event fires). If `signal` aborts first (or already
 * has), the value is `whenAborted()` and `start` is not called.
 */
export function settleOnce<T>(signal: AbortSignal, whenAborted: () => T, start: (settle: (value: T) => void) => ((value: T) => void) | void): Promise<T> {
  return new Promise<T>((resolve) => {
    if (signal.aborted) {
      resolve(whenAborted());
      return;
    }
    let undo: ((value: T) => void) | void = undefined;
    let settled: { value: T } | undefined;
    const settle = (value: T): void => {
      if (settled !== undefined) return;
      settled = { value };
      forget();
      undo?.(value);
      resolve(value);
    };
    const forget = onAbort(signal, () => settle(whenAborted()));
    undo = start(settle);
    // Settled while starting: the undo was not known yet.
    if (settled !== undefined) undo?.(settled.value);
  });
}

/** Adds each handler to `emitter` for its event; the function returned removes them all. */
export function listen(emitter: EventEmitter, handlers: Readonly<Record<string, (...args: never[]) => void>>): () => void {
  const pairs = Object.entries(handlers) as [string, (...args: unknown[]) => void][];
  for (const [event, handler] of pairs) emitter.on(event, handler);
  return () => {
    for (const [event, handler] of pairs) emitter.removeListener(event, handler);
  };
}

/**
 * Settles with `work`, or rejects with an error of `code` as soon as `signal`
 * aborts: for work that cannot be cancelled (dns.lookup, an undici request not yet
 * dispatched). A late rejection of `work` is swallowed, so it never goes unhandled.
 */
export async function untilAborted<T>(work: Promise<T>, signal: AbortSignal, code = 'ABORT_ERR'): Promise<T> {
  work.catch(() => undefined);
  const outcome = await settleOnce<{ ok: true; value: T } | { ok: false; error: Error }>(
    signal,
    () => ({ ok: false, error: Object.assign(new Error('aborted'), { code }) }),
    (settle) => {
      work.then(
        (value) => settle({ ok: true, value }),
        (err: unknown) => settle({ ok: false, error: err instanceof Error ? err : new Error(String(err)) }),
      );
    },
  );
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}
