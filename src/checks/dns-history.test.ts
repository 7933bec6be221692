import { describe, expect, it } from 'vitest';
import { DnsHistory } from './dns-history.js';

const s = 1000;

describe('DnsHistory', () => {
  it('estimates the configured TTL from a caching countdown without counting drift', () => {
    const history = new DnsHistory({ intervalMs: 30 * s });
    // Configured TTL 60, sampled every 30 s by a caching resolver.
    const ttls = [41, 11, 60, 30, 58, 28, 59];
    const updates = ttls.map((ttl, i) => history.observe(ttl, ['192.0.2.1'], i * 30 * s));
    expect(updates.map((u) => u.ttlMax)).toEqual([41, 41, 60, 60, 60, 60, 60]);
    expect(updates.some((u) => u.ttlChanged)).toBe(false);
  });

  it('counts a larger TTL at once', () => {
    const history = new DnsHistory({ intervalMs: 30 * s });
    history.observe(60, ['a'], 0);
    const update = history.observe(300, ['a'], 30 * s);
    expect(update).toMatchObject({ ttlMax: 300, ttlChanged: true });
  });

  it('counts a smaller TTL once the old samples leave the window', () => {
    const history = new DnsHistory({ intervalMs: 30 * s });
    let t = 0;
    history.observe(300, ['a'], t);
    const seen: Array<{ ttlMax: number; ttlChanged: boolean }> = [];
    // The authoritative TTL drops to 60; the window is 2 * 300 s + 30 s.
    for (t = 30 * s; t <= 660 * s; t += 30 * s) seen.push(history.observe(60, ['a'], t));
    const firstLow = seen.findIndex((u) => u.ttlMax === 60);
    expect(firstLow).toBeGreaterThan(0);
    expect(seen[firstLow]?.ttlChanged).toBe(true);
    expect(seen.filter((u) => u.ttlChanged)).toHaveLength(1);
    expect((firstLow + 1) * 30).toBeLessThanOrEqual(660);
  });

  it('tracks address-set changes regardless of order', () => {
    const history = new DnsHistory({ intervalMs: 30 * s });
    expect(history.observe(60, ['b', 'a'], 1000)).toMatchObject({ addressesChanged: false, addressSetSinceMs: 1000 });
    expect(history.observe(60, ['a', 'b'], 2000)).toMatchObject({ addressesChanged: false, addressSetSinceMs: 1000 });
    expect(history.observe(60, ['a', 'c'], 3000)).toMatchObject({ addressesChanged: true, addressSetSinceMs: 3000 });
  });
});
