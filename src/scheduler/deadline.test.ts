import { describe, expect, it } from 'vitest';
import { withDeadline } from './deadline.js';

const never = (): Promise<never> => new Promise(() => undefined);

describe('a check deadline', () => {
  it('aborts the probe signal once the check settled, so nothing it left listening lives on', async () => {
    let given: AbortSignal | undefined;
    const out = await withDeadline(
      (signal) => {
        given = signal;
        return Promise.resolve('ok');
      },
      60_000,
      new AbortController().signal,
      () => 'abandoned',
    );
    expect(out).toEqual({ value: 'ok', abandoned: false });
    expect(given?.aborted).toBe(true);
  });

  it('aborts the probe at the deadline, and with the parent', async () => {
    const timedOut = await withDeadline((signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve('stopped'))), 20, new AbortController().signal, () => 'abandoned');
    expect(timedOut).toEqual({ value: 'stopped', abandoned: false });
    const parent = new AbortController();
    const byParent = withDeadline((signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve('stopped'))), 60_000, parent.signal, () => 'abandoned');
    parent.abort();
    expect(await byParent).toEqual({ value: 'stopped', abandoned: false });
  });

  it('hands an aborted signal to a probe whose parent already aborted', async () => {
    const parent = new AbortController();
    parent.abort();
    const out = await withDeadline((signal) => Promise.resolve(signal.aborted), 60_000, parent.signal, () => false);
    expect(out).toEqual({ value: true, abandoned: false });
  });

  it('answers for a probe that ignores its signal, and reports a throw as abandoned', async () => {
    expect(await withDeadline(never, 10, new AbortController().signal, () => 'watchdog')).toEqual({ value: 'watchdog', abandoned: true });
    const thrown = await withDeadline(
      () => Promise.reject(new Error('bug')),
      60_000,
      new AbortController().signal,
      (error) => `bug: ${(error as Error).message}`,
    );
    expect(thrown).toEqual({ value: 'bug: bug', abandoned: true });
  }, 5000);
});
