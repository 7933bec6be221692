import { describe, expect, it } from 'vitest';
import { renderJson } from './json-format.js';
import type { Listing } from './selection.js';

describe('renderJson', () => {
  it('says why each address is listed: host, family, resolver, TTL, first and last seen, until when', () => {
    const listing: Listing = {
      addresses: ['104.16.2.1', '192.0.2.50'],
      sightings: [
        { address: '104.16.2.1', family: 'v4', host: 'cgr.dev', port: 443, resolver: '1.1.1.1:53', firstSeenMs: 0, lastSeenMs: 30_000, ttlSeconds: 60, expiresAtMs: 90_000, held: false },
        { address: '192.0.2.50', family: 'v4', host: '192.0.2.50', port: 8443, resolver: null, firstSeenMs: null, lastSeenMs: null, ttlSeconds: null, expiresAtMs: Infinity, held: false },
      ],
      nextExpiryMs: 90_000,
    };
    const body = JSON.parse(
      renderJson(listing, { list: 'chainguard', generatedAtMs: 40_000, size: { addresses: 2, bytes: 22 }, limits: { maxAddresses: 1, maxBytes: 1000 }, overLimit: 'too many' }),
    ) as unknown;
    expect(body).toEqual({
      list: 'chainguard',
      generatedAt: '1970-01-01T00:00:40.000Z',
      addresses: ['104.16.2.1', '192.0.2.50'],
      size: { addresses: 2, bytes: 22 },
      limits: { maxAddresses: 1, maxBytes: 1000 },
      overLimit: 'too many',
      entries: [
        {
          address: '104.16.2.1',
          family: 'v4',
          host: 'cgr.dev',
          port: 443,
          resolver: '1.1.1.1:53',
          ttl: 60,
          firstSeen: '1970-01-01T00:00:00.000Z',
          lastSeen: '1970-01-01T00:00:30.000Z',
          expiresAt: '1970-01-01T00:01:30.000Z',
          held: false,
        },
        { address: '192.0.2.50', family: 'v4', host: '192.0.2.50', port: 8443, resolver: null, ttl: null, firstSeen: null, lastSeen: null, expiresAt: null, held: false },
      ],
    });
  });
});
