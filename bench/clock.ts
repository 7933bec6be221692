// Waiting on the wall clock, and a free loopback port.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Resolves at `atMs` (Date.now() time), at once when that has passed. */
export function sleepUntil(atMs: number): Promise<void> {
  return sleep(atMs - Date.now());
}

/** A port on 127.0.0.1 that was free a moment ago (for programs that must be told one). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `url` until it answers 200, or fails after `timeoutMs` or once `gone()` says the program ended. */
export async function waitUntilServing(url: string, timeoutMs: number, gone: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ended = gone();
    if (ended !== undefined) throw new Error(`${ended} before serving ${url}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await sleep(100);
  }
}
