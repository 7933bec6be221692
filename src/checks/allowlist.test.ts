import { describe, expect, it } from 'vitest';
import { Allowlist } from './allowlist.js';

describe('Allowlist', () => {
  it('counts answers outside the allowed networks, per address family', () => {
    const allow = new Allowlist(['104.16.0.0/13', '2606:4700::/32']);
    expect(allow.enabled).toBe(true);
    expect(allow.countOutside(['104.18.1.2', '104.24.0.1', '2606:4700::1', '2a06:98c1::1'])).toBe(2);
    expect(allow.contains('::ffff:104.16.0.1')).toBe(true);
    expect(allow.contains('not an ip')).toBe(false);
  });

  it('is disabled when empty', () => {
    expect(new Allowlist([]).enabled).toBe(false);
  });
});
