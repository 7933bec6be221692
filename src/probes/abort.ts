// Racing work that cannot be cancelled (dns.lookup, an undici request not yet
// dispatched) against a probe's signal: the probe's deadline wins either way.

/**
 * Settles with `work`, or rejects with an error of `code` as soon as `signal`
 * aborts. A late rejection of `work` is swallowed, so it never goes unhandled.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal, code = 'ABORT_ERR'): Promise<T> {
  work.catch(() => undefined);
  const aborted = () => Object.assign(new Error('aborted'), { code });
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
