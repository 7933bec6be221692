import { describe, expect, it } from 'vitest';
import type { AnswerSet, Sighting } from './address-book.js';
import { expiresAtMs, isRetained } from './retention.js';

const s = 1000;
const SEEN: Sighting = { address: '192.0.2.1', firstSeenMs: 0, lastSeenMs: 100 * s, ttlSeconds: 60 };
const set = (extra: Partial<AnswerSet> = {}): AnswerSet => ({ family: 'v4', resolver: 'system', held: false, sightings: new Map([[SEEN.address, SEEN]]), ...extra });

describe('retention', () => {
  it('keeps an address until last seen + TTL + firewall refresh + grace', () => {
    const retention = { refreshMs: 300 * s, graceMs: 30 * s };
    expect(expiresAtMs(SEEN, set(), retention)).toBe((100 + 60 + 300 + 30) * s);
    expect(isRetained(SEEN, set(), retention, 490 * s - 1)).toBe(true);
    expect(isRetained(SEEN, set(), retention, 490 * s)).toBe(false);
  });

  it('an unset refresh counts as 0, and a grace of 0 leaves the TTL alone', () => {
    expect(expiresAtMs(SEEN, set(), { refreshMs: 0, graceMs: 0 })).toBe(160 * s);
  });

  it('never expires while held; after a hold, ages from the last round that held it', () => {
    const retention = { refreshMs: 0, graceMs: 0 };
    expect(expiresAtMs(SEEN, set({ held: true, heldAtMs: 500 * s }), retention)).toBe(Number.POSITIVE_INFINITY);
    expect(expiresAtMs(SEEN, set({ heldAtMs: 500 * s }), retention)).toBe(560 * s);
    // A hold older than the sighting changes nothing.
    expect(expiresAtMs(SEEN, set({ heldAtMs: 50 * s }), retention)).toBe(160 * s);
  });
});
