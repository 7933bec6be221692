import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, startBlackhole, startListener } from '../../../test/fixtures/tcp-peers.js';
import type { Peer } from '../../../test/fixtures/tcp-peers.js';
import { probeTcp } from './tcp.js';
import type { Target } from '../../model/types.js';

const target = (port: number, families: Target['families'] = ['v4']): Target => ({
  host: 'tcp.example',
  port,
  families,
  checks: ['tcp'],
  labels: {},
  purpose: '',
  source: 'test',
});

describe('probeTcp', () => {
  let listener: Peer & { accepted: () => number };
  let blackhole: Peer;
  beforeAll(async () => {
    listener = await startListener();
    blackhole = await startBlackhole();
  });
  afterAll(async () => {
    await listener.close();
    await blackhole.close();
  });

  it('connects to every address and times each connect', async () => {
    const others = [await startListener('127.0.0.2', listener.port), await startListener('127.0.0.3', listener.port)];
    const before = listener.accepted() + others.reduce((n, o) => n + o.accepted(), 0);
    const result = await probeTcp(target(listener.port), { addresses: { v4: ['127.0.0.1', '127.0.0.2', '127.0.0.3'] } }, AbortSignal.timeout(5000));
    await Promise.all(others.map((o) => o.close()));
    expect(result.ok).toBe(true);
    expect(result.reason).toBeUndefined();
    expect(result.families).toHaveLength(1);
    expect(result.families[0]).toMatchObject({ family: 'v4', probed: 3, reachable: 3 });
    for (const attempt of result.families[0]?.attempts ?? []) {
      expect(attempt.ok).toBe(true);
      expect(attempt.connectSeconds).toBeGreaterThan(0);
    }
    await expect.poll(() => listener.accepted() + others.reduce((n, o) => n + o.accepted(), 0) - before).toBe(3);
  });

  it('reports a closed port as refused', async () => {
    const result = await probeTcp(target(await closedPort()), { addresses: { v4: ['127.0.0.1'] } }, AbortSignal.timeout(5000));
    expect(result).toMatchObject({ ok: false, reason: 'refused' });
    expect(result.families[0]).toMatchObject({ probed: 1, reachable: 0 });
    expect(result.families[0]?.attempts[0]).toMatchObject({ ok: false, reason: 'refused' });
  });

  it('gives up on a peer that never completes the handshake at the deadline', async () => {
    const result = await probeTcp(target(blackhole.port), { addresses: { v4: ['127.0.0.1'] } }, AbortSignal.timeout(300));
    expect(result).toMatchObject({ ok: false, reason: 'timeout' });
    expect(result.durationSeconds).toBeGreaterThanOrEqual(0.25);
    expect(result.durationSeconds).toBeLessThan(2);
  });

  it('shows one stale address of several: still ok, with the count of reachable ones', async () => {
    // 127.0.0.1 listens on the port; on 127.0.0.2 the same port is bound by nothing.
    const onlyFirst = await startListener('127.0.0.1');
    try {
      const result = await probeTcp(target(onlyFirst.port), { addresses: { v4: ['127.0.0.1', '127.0.0.2'] } }, AbortSignal.timeout(5000));
      expect(result.ok).toBe(true);
      expect(result.families[0]).toMatchObject({ probed: 2, reachable: 1 });
      const failed = result.families[0]?.attempts.find((a) => !a.ok);
      expect(failed).toMatchObject({ address: '127.0.0.2', reason: 'refused' });
    } finally {
      await onlyFirst.close();
    }
  });

  it('probes at most the cap of addresses per family', async () => {
    const addresses = Array.from({ length: 20 }, (_, i) => `127.0.1.${i + 1}`);
    const result = await probeTcp(target(listener.port), { addresses: { v4: addresses }, maxPerFamily: 16 }, AbortSignal.timeout(5000));
    expect(result.families[0]).toMatchObject({ probed: 16 });
  });

  it('fails as no_addresses when DNS gave nothing', async () => {
    const result = await probeTcp(target(listener.port, ['v4', 'v6']), { addresses: {} }, AbortSignal.timeout(5000));
    expect(result).toMatchObject({ ok: false, reason: 'no_addresses' });
  });

  it('fails a family with no reachable address even when another family works', async () => {
    const v6 = await startListener('::1').catch(() => undefined);
    const refused = await closedPort('127.0.0.1');
    const result = await probeTcp(target(refused, ['v4', 'v6']), { addresses: { v4: ['127.0.0.1'], v6: v6 ? ['::1'] : [] } }, AbortSignal.timeout(5000));
    expect(result).toMatchObject({ ok: false, reason: 'refused' });
    await v6?.close();
  });
});
