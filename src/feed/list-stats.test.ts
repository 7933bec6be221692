import { describe, expect, it } from 'vitest';
import type { FeedListConfig } from '../config/types.js';
import { ListStats } from './list-stats.js';
import type { Contribution } from './list-stats.js';

const LIST: FeedListConfig = { name: 'all', hosts: null, labels: {}, families: ['v4', 'v6'] };
const c = (addresses: string[], nextExpiryMs = Number.POSITIVE_INFINITY): Contribution => ({ addresses, nextExpiryMs });

describe('ListStats', () => {
  it('counts each address once however many targets bring it, and changes only when one enters or leaves', () => {
    const stats = new ListStats();
    const now: Record<string, Contribution> = { a: c(['10.0.0.1', '10.0.0.2'], 50), b: c(['10.0.0.2']) };
    stats.rebuild([LIST], () => ['a', 'b'], (_, key) => now[key] ?? c([]), 0);
    expect(stats.facts()).toEqual([{ name: 'all', size: { addresses: 2, bytes: 18 }, lastChangeMs: 0 }]);
    // a no longer brings 10.0.0.2, but b still does: no change.
    stats.update('a', () => c(['10.0.0.1']), 10);
    expect(stats.facts()[0]?.lastChangeMs).toBe(0);
    // b brings a new one.
    stats.update('b', () => c(['10.0.0.2', '2001:db8::1']), 20);
    expect(stats.facts()).toEqual([{ name: 'all', size: { addresses: 3, bytes: 18 + 12 }, lastChangeMs: 20 }]);
    stats.update('a', () => c([]), 30);
    expect(stats.facts()).toEqual([{ name: 'all', size: { addresses: 2, bytes: 21 }, lastChangeMs: 30 }]);
  });

  it('says which targets have an expiry due, and when the next one is', () => {
    const stats = new ListStats();
    stats.rebuild([LIST], () => ['a', 'b'], (_, key) => (key === 'a' ? c(['10.0.0.1'], 50) : c(['10.0.0.2'], 70)), 0);
    expect(stats.nextExpiryMs()).toBe(50);
    expect([...stats.due(49)]).toEqual([]);
    expect([...stats.due(50)]).toEqual(['a']);
  });

  it('leaves alone a target no list holds, and keeps a list\'s last change through a rebuild with the same addresses', () => {
    const stats = new ListStats();
    stats.rebuild([LIST], () => ['a'], () => c(['10.0.0.1']), 5);
    stats.update('z', () => c(['10.9.9.9']), 6);
    expect(stats.facts()[0]?.size.addresses).toBe(1);
    stats.rebuild([LIST, { ...LIST, name: 'other' }], () => ['a'], () => c(['10.0.0.1']), 9);
    expect(stats.facts()).toEqual([
      { name: 'all', size: { addresses: 1, bytes: 9 }, lastChangeMs: 5 },
      { name: 'other', size: { addresses: 1, bytes: 9 }, lastChangeMs: 9 },
    ]);
  });
});
