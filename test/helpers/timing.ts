// Deadlines and polling for the probe tests.

/** Polls `check` every 10 ms until it holds or `ms` have passed; then its last answer. */
export async function eventually(check: () => boolean, ms = 2000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return check();
}

/** A signal that aborts after `ms`, and a way to clear its timer. */
export function deadline(ms: number): { signal: AbortSignal; clear: () => void } {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  return { signal: ac.signal, clear: () => clearTimeout(timer) };
}

/** Runs `run` with a signal that aborts after `deadlineMs`: what it returned, and how long it took. */
export async function timed<T>(deadlineMs: number, run: (signal: AbortSignal) => Promise<T>): Promise<{ result: T; elapsed: number }> {
  const d = deadline(deadlineMs);
  const start = Date.now();
  try {
    const result = await run(d.signal);
    return { result, elapsed: Date.now() - start };
  } finally {
    d.clear();
  }
}
