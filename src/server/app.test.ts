// Health and readiness answered ahead of express: the same answers orchestrators always got.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import type { AppDeps } from './app.js';

describe('health and readiness', () => {
  let ready = false;
  const server = createServer(
    // Only `ready` is read by these routes; the others are never reached here.
    createApp({ ready: () => ready, probe: {}, version: 'test' } as unknown as AppDeps),
  );
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('says healthy at once, and ready only after the first round', async () => {
    const healthy = await fetch(`${base}/-/healthy`);
    expect([healthy.status, healthy.headers.get('content-type'), await healthy.text()]).toEqual([200, 'text/plain; charset=utf-8', 'Healthy\n']);
    const waiting = await fetch(`${base}/-/ready`);
    expect([waiting.status, await waiting.text()]).toEqual([503, 'Not ready: the first round of checks is still running\n']);
    ready = true;
    const now = await fetch(`${base}/-/ready?from=kubelet`);
    expect([now.status, await now.text()]).toEqual([200, 'Ready\n']);
  });

  it('answers HEAD without a body, and leaves other methods and paths to the routes', async () => {
    const head = await fetch(`${base}/-/healthy`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([200, '8', '']);
    expect((await fetch(`${base}/-/healthy`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/-/healthy/more`)).status).toBe(404);
  });
});
