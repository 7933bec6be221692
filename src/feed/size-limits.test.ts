import { describe, expect, it } from 'vitest';
import { overLimit, sizeOf } from './size-limits.js';

describe('size limits', () => {
  it('measures the plain text a firewall gets: each address and its newline', () => {
    expect(sizeOf(['10.0.0.1', '2001:db8::1'])).toEqual({ addresses: 2, bytes: 9 + 12 });
    expect(sizeOf([])).toEqual({ addresses: 0, bytes: 0 });
  });

  it('says which limit a list is over, and is silent at the limit', () => {
    expect(overLimit({ addresses: 3, bytes: 30 }, { maxAddresses: 3, maxBytes: 30 })).toBeNull();
    expect(overLimit({ addresses: 4, bytes: 30 }, { maxAddresses: 3, maxBytes: 30 })).toBe('the list would hold 4 addresses, more than feed.max_addresses (3)');
    expect(overLimit({ addresses: 3, bytes: 31 }, { maxAddresses: 3, maxBytes: 30 })).toBe('the list would be 31 bytes, more than feed.max_bytes (30)');
  });
});
