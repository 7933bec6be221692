import { describe, expect, it } from 'vitest';
import { AddressBook } from './address-book.js';
import { decodeState, encodeState, encodeTarget } from './state-file.js';

const T = { key: 'cgr.dev:443', host: 'cgr.dev', port: 443 };

function saved(): string {
  const book = new AddressBook();
  book.observe(
    T,
    [
      { family: 'v4', resolver: '1.1.1.1:53', kind: 'addresses', addresses: ['104.16.2.1', '104.16.10.1'], ttlSeconds: 60 },
      { family: 'v6', resolver: '1.1.1.1:53', kind: 'addresses', addresses: ['2606:4700::1'], ttlSeconds: 300 },
    ],
    1000,
  );
  book.observe(T, [{ family: 'v6', resolver: '1.1.1.1:53', kind: 'no-answer' }], 2000);
  return encodeState(3000, [...book.all()].map(encodeTarget));
}

describe('the state file', () => {
  it('reads back what it wrote', () => {
    const decoded = decodeState(saved());
    expect(decoded).toMatchObject({ ok: true, savedAtMs: 3000, skipped: 0 });
    if (!decoded.ok) throw new Error(decoded.problem);
    const [target] = decoded.targets;
    expect(target).toMatchObject({ key: 'cgr.dev:443', host: 'cgr.dev', port: 443 });
    expect(target?.sets.map((s) => ({ family: s.family, resolver: s.resolver, held: s.held, heldAtMs: s.heldAtMs, addresses: [...s.sightings.keys()] }))).toEqual([
      { family: 'v4', resolver: '1.1.1.1:53', held: false, heldAtMs: undefined, addresses: ['104.16.2.1', '104.16.10.1'] },
      { family: 'v6', resolver: '1.1.1.1:53', held: true, heldAtMs: 2000, addresses: ['2606:4700::1'] },
    ]);
    expect(target?.sets[0]?.sightings.get('104.16.2.1')).toEqual({ address: '104.16.2.1', ttlSeconds: 60, firstSeenMs: 1000, lastSeenMs: 1000 });
  });

  it('refuses a torn file as a whole, saying why', () => {
    const text = saved();
    const torn = decodeState(text.slice(0, Math.floor(text.length / 2)));
    expect(torn.ok).toBe(false);
    if (!torn.ok) expect(torn.problem).toMatch(/^not JSON \(/);
    expect(decodeState('')).toMatchObject({ ok: false });
  });

  it('refuses another format or version', () => {
    expect(decodeState('{"targets": []}')).toEqual({ ok: false, problem: 'not a feed state file (no "format": "egress-exporter-feed")' });
    expect(decodeState('{"format": "egress-exporter-feed", "version": 2}')).toEqual({ ok: false, problem: 'version 2, expected 1' });
  });

  it('leaves out an entry that makes no sense, and counts it', () => {
    const text = JSON.stringify({
      format: 'egress-exporter-feed',
      version: 1,
      savedAtMs: 5,
      targets: [
        {
          key: 'cgr.dev:443',
          host: 'cgr.dev',
          port: 443,
          sets: [
            { family: 'v4', resolver: 'system', held: false, heldAtMs: null, sightings: [['104.16.2.1', 60, 1, 2], ['2606:4700::1', 60, 1, 2], ['104.16.2.2', -1, 1, 2], ['104.16.2.3', 60, 3, 2]] },
            { family: 'v5', resolver: 'system', sightings: [] },
          ],
        },
        { key: 'no-host' },
      ],
    });
    const decoded = decodeState(text);
    expect(decoded).toMatchObject({ ok: true, skipped: 5 });
    if (decoded.ok) expect([...(decoded.targets[0]?.sets[0]?.sightings.keys() ?? [])]).toEqual(['104.16.2.1']);
  });
});
