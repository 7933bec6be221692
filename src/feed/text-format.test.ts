import { describe, expect, it } from 'vitest';
import type { Listing, ListedSighting } from './selection.js';
import { renderText } from './text-format.js';

const seen = (address: string, host: string): ListedSighting => ({
  address,
  family: address.includes(':') ? 'v6' : 'v4',
  host,
  port: 443,
  resolver: 'system',
  firstSeenMs: 0,
  lastSeenMs: 0,
  ttlSeconds: 60,
  expiresAtMs: 60_000,
  held: false,
});

const LISTING: Listing = {
  addresses: ['104.16.2.1', '2606:4700::1'],
  sightings: [seen('104.16.2.1', 'apk.cgr.dev'), seen('104.16.2.1', 'cgr.dev'), seen('2606:4700::1', 'cgr.dev')],
  nextExpiryMs: 60_000,
};

describe('renderText', () => {
  it('writes one address a line and nothing else: what an EDL or a FortiGate connector reads', () => {
    expect(renderText(LISTING, null)).toBe('104.16.2.1\n2606:4700::1\n');
  });

  it('writes nothing at all for an empty list', () => {
    expect(renderText({ addresses: [], sightings: [], nextExpiryMs: Infinity }, null)).toBe('');
  });

  it('with comments asked for: a header, and the hosts of each address on a # line above it', () => {
    expect(renderText(LISTING, { title: 'list chainguard', generatedAtMs: Date.UTC(2025, 5, 17, 10) })).toBe(
      [
        '# egress-exporter address feed: list chainguard: 2 addresses at 2025-06-17T10:00:00.000Z',
        '# apk.cgr.dev, cgr.dev',
        '104.16.2.1',
        '# cgr.dev',
        '2606:4700::1',
        '',
      ].join('\n'),
    );
  });
});
