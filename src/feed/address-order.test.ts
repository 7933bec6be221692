import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { sortAddresses, sortKey } from './address-order.js';

describe('address order', () => {
  it('keys every written form as its value: the same key the parser gives', () => {
    for (const address of ['0.0.0.0', '9.0.0.1', '255.255.255.255', '::', '::1', '2001:db8::', 'fe80::1:2', '2001:db8:0:1:2:3:4:5', '2606:4700::6810:84e5', '::ffff:10.0.0.1', '64:ff9b::192.0.2.33']) {
      const bytes = ipaddr.parse(address).toByteArray();
      const expected = `${bytes.length === 4 ? '4' : '6'}${bytes.map((b) => b.toString(16).padStart(2, '0')).join('')}`;
      expect(sortKey(address), address).toBe(expected);
    }
  });

  it('writes IPv4 before IPv6, each by value, each once', () => {
    expect(sortAddresses(['2001:db8::10', '10.0.0.9', '2001:db8::9', '9.0.0.1', '10.0.0.10', '10.0.0.9'])).toEqual(['9.0.0.1', '10.0.0.9', '10.0.0.10', '2001:db8::9', '2001:db8::10']);
  });
});
