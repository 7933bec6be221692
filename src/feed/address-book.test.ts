import { describe, expect, it } from 'vitest';
import { AddressBook, answerSetKey } from './address-book.js';
import type { AnswerSet, Sighting } from './address-book.js';
import { expiresAtMs, isRetained } from './retention.js';

const s = 1000;
const T = { key: 'cgr.dev:443', host: 'cgr.dev', port: 443 };
const RETENTION = { refreshMs: 60 * s, graceMs: 30 * s };

function setOf(book: AddressBook, resolver = 'system'): AnswerSet {
  const set = book.get(T.key)?.sets.get(answerSetKey('v4', resolver));
  if (set === undefined) throw new Error('no answer set');
  return set;
}
const sighting = (book: AddressBook, address: string): Sighting | undefined => setOf(book).sightings.get(address);

describe('AddressBook', () => {
  it('keeps when each address was first and last seen, and the TTL of its latest answer', () => {
    const book = new AddressBook();
    book.observe(T, [{ family: 'v4', resolver: 'system', kind: 'addresses', addresses: ['192.0.2.1'], ttlSeconds: 60 }], 1000 * s);
    book.observe(T, [{ family: 'v4', resolver: 'system', kind: 'addresses', addresses: ['192.0.2.1', '192.0.2.2'], ttlSeconds: 30 }], 1030 * s);
    expect(sighting(book, '192.0.2.1')).toEqual({ address: '192.0.2.1', firstSeenMs: 1000 * s, lastSeenMs: 1030 * s, ttlSeconds: 30 });
    expect(sighting(book, '192.0.2.2')).toEqual({ address: '192.0.2.2', firstSeenMs: 1030 * s, lastSeenMs: 1030 * s, ttlSeconds: 30 });
  });

  it('keeps each resolver and family apart', () => {
    const book = new AddressBook();
    book.observe(
      T,
      [
        { family: 'v4', resolver: '1.1.1.1:53', kind: 'addresses', addresses: ['192.0.2.1'], ttlSeconds: 60 },
        { family: 'v4', resolver: '8.8.8.8:53', kind: 'addresses', addresses: ['192.0.2.9'], ttlSeconds: 60 },
        { family: 'v6', resolver: '1.1.1.1:53', kind: 'addresses', addresses: ['2001:db8::1'], ttlSeconds: 60 },
      ],
      0,
    );
    expect([...(book.get(T.key)?.sets.keys() ?? [])]).toEqual([answerSetKey('v4', '1.1.1.1:53'), answerSetKey('v4', '8.8.8.8:53'), answerSetKey('v6', '1.1.1.1:53')]);
    expect([...setOf(book, '8.8.8.8:53').sightings.keys()]).toEqual(['192.0.2.9']);
  });

  it('an address the answer no longer has ages from its last sighting', () => {
    const book = new AddressBook();
    book.observe(T, [{ family: 'v4', resolver: 'system', kind: 'addresses', addresses: ['192.0.2.1'], ttlSeconds: 60 }], 0);
    book.observe(T, [{ family: 'v4', resolver: 'system', kind: 'addresses', addresses: ['192.0.2.2'], ttlSeconds: 60 }], 30 * s);
    const old = sighting(book, '192.0.2.1')!;
    // last seen 0 + TTL 60 s + refresh 60 s + grace 30 s
    expect(expiresAtMs(old, setOf(book), RETENTION)).toBe(150 * s);
    expect(isRetained(old, setOf(book), RETENTION, 150 * s - 1)).toBe(true);
    expect(isRetained(old, setOf(book), RETENTION, 150 * s)).toBe(false);
  });

  it('NXDOMAIN, NODATA or a sinkhole answer: every address ages, nothing new is seen', () => {
    const book = new AddressBook();
    book.observe(T, [{ family: 'v4', resolver: 'system', kind: 'addresses', addresses: ['192.0.2.1'], ttlSeconds: 60 }], 0);
    book.observe(T, [{ family: 'v4', resolver: 'system', kind: 'no-addresses' }], 30 * s);
    expect(setOf(book).held).toBe(false);
    expect(expiresAtMs(sighting(book, '192.0.2.1')!, setOf(book), RETENTION)).toBe(150 * s);
  });

  it('no answer at all (a timeout, SERVFAIL): the addresses are held, then age from the last round that held them', () => {
    const book = new AddressBook();
    book.observe(T, [{ family: 'v4', resolver: 'system', kind: 'addresses', addresses: ['192.0.2.1'], ttlSeconds: 60 }], 0);
    book.observe(T, [{ family: 'v4', resolver: 'system', kind: 'no-answer' }], 500 * s);
    expect(setOf(book).held).toBe(true);
    expect(expiresAtMs(sighting(book, '192.0.2.1')!, setOf(book), RETENTION)).toBe(Number.POSITIVE_INFINITY);
    // Answered again, without the address: it ages from the hold, not from its sighting long ago.
    book.observe(T, [{ family: 'v4', resolver: 'system', kind: 'addresses', addresses: ['192.0.2.2'], ttlSeconds: 60 }], 530 * s);
    expect(setOf(book).held).toBe(false);
    expect(expiresAtMs(sighting(book, '192.0.2.1')!, setOf(book), RETENTION)).toBe(650 * s);
    expect(sighting(book, '192.0.2.1')?.lastSeenMs).toBe(0);
  });

  it('no answer before any answer holds nothing', () => {
    const book = new AddressBook();
    book.observe(T, [{ family: 'v4', resolver: 'system', kind: 'no-answer' }], 0);
    expect(book.get(T.key)?.sets.size).toBe(0);
  });

  it('prunes what expired, then empty sets and targets, and says which targets changed', () => {
    const book = new AddressBook();
    book.observe(T, [{ family: 'v4', resolver: 'system', kind: 'addresses', addresses: ['192.0.2.1', '192.0.2.2'], ttlSeconds: 60 }], 0);
    book.observe(T, [{ family: 'v4', resolver: 'system', kind: 'addresses', addresses: ['192.0.2.2'], ttlSeconds: 60 }], 100 * s);
    const changed: string[] = [];
    const version = book.version;
    book.prune((x, set) => !isRetained(x, set, RETENTION, 200 * s), undefined, (key) => changed.push(key));
    expect([...setOf(book).sightings.keys()]).toEqual(['192.0.2.2']);
    expect(changed).toEqual([T.key]);
    expect(book.version).toBeGreaterThan(version);
    book.prune((x, set) => !isRetained(x, set, RETENTION, 300 * s));
    expect(book.get(T.key)).toBeUndefined();
    expect(book.size).toBe(0);
  });

  it('says when what is listed may have changed, not when the same addresses are seen again', () => {
    const book = new AddressBook();
    const a = (addresses: string[]) => [{ family: 'v4' as const, resolver: 'system', kind: 'addresses' as const, addresses, ttlSeconds: 60 }];
    expect(book.observe(T, a(['192.0.2.1', '192.0.2.2']), 0)).toBe(true);
    expect(book.observe(T, a(['192.0.2.2', '192.0.2.1']), 30 * s)).toBe(false);
    // One leaves the answer: its last sighting is final, worth saving soon.
    expect(book.observe(T, a(['192.0.2.2']), 60 * s)).toBe(true);
    expect(book.observe(T, a(['192.0.2.2']), 90 * s)).toBe(false);
    expect(book.observe(T, [{ family: 'v4', resolver: 'system', kind: 'no-answer' }], 120 * s)).toBe(true);
    expect(book.observe(T, [{ family: 'v4', resolver: 'system', kind: 'no-answer' }], 150 * s)).toBe(false);
    expect(book.observe(T, a(['192.0.2.2']), 180 * s)).toBe(true);
    expect(book.observe(T, [{ family: 'v4', resolver: 'system', kind: 'no-addresses' }], 210 * s)).toBe(true);
    expect(book.observe(T, [{ family: 'v4', resolver: 'system', kind: 'no-addresses' }], 240 * s)).toBe(false);
  });

  it('forgets a target that left the config', () => {
    const book = new AddressBook();
    book.observe(T, [{ family: 'v4', resolver: 'system', kind: 'addresses', addresses: ['192.0.2.1'], ttlSeconds: 60 }], 0);
    book.forget(T.key);
    expect(book.get(T.key)).toBeUndefined();
  });
});
