import { describe, expect, it } from 'vitest';
import { CidrSet, isIPv4, isIPv6, normaliseCidr, normaliseIp } from './cidr.js';

describe('IP literals', () => {
  it('takes only dotted quads as IPv4 and zone-less IPv6', () => {
    expect(['1.2.3.4', '0.0.0.0', '255.255.255.255'].map(isIPv4)).toEqual([true, true, true]);
    expect(['010.1.2.3', '1.2.3', '127.1', '256.1.1.1', '1.2.3.4.', '::1'].map(isIPv4)).toEqual([false, false, false, false, false, false]);
    expect(['::1', '2001:DB8::1', '::ffff:1.2.3.4'].map(isIPv6)).toEqual([true, true, true]);
    expect(['fe80::1%eth0', '1.2.3.4', '[::1]', 'cgr.dev'].map(isIPv6)).toEqual([false, false, false, false]);
  });

  it('writes IPv6 in RFC 5952 form and leaves IPv4 as it is', () => {
    expect(normaliseIp('2001:DB8:0:0::1')).toBe('2001:db8::1');
    expect(normaliseIp('1:0:0:1:0:0:0:1')).toBe('1:0:0:1::1');
    expect(normaliseIp('::ffff:127.0.0.1')).toBe('::ffff:7f00:1');
    expect(normaliseIp('10.0.0.1')).toBe('10.0.0.1');
    expect(normaliseIp('010.0.0.1')).toBeNull();
    expect(normaliseIp('cgr.dev')).toBeNull();
  });
});

describe('normaliseCidr', () => {
  it.each([
    ['104.16.1.1/13', '104.16.0.0/13'],
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['1.2.3.4/32', '1.2.3.4/32'],
    ['2606:4700:0:0::1/32', '2606:4700::/32'],
    ['::1/128', '::1/128'],
    ['10.0.0.0/33', null],
    ['::/129', null],
    ['10.0.0.0/08', null],
    ['10.0.0.0', null],
    ['10.0.0.0/', null],
    ['fe80::%eth0/64', null],
    ['cgr.dev/8', null],
  ])('%s -> %s', (text, expected) => {
    expect(normaliseCidr(text)).toBe(expected);
  });
});

describe('CidrSet', () => {
  it('matches addresses of the same family inside a block, IPv4-mapped IPv6 as IPv4', () => {
    const set = new CidrSet(['10.0.0.0/8', 'fd00::/8', '192.0.2.1/32']);
    expect(set.size).toBe(3);
    expect(['10.255.0.1', 'fd12::1', '192.0.2.1', '::ffff:10.0.0.1'].map((a) => set.contains(a))).toEqual([true, true, true, true]);
    expect(['11.0.0.1', 'fe80::1', '192.0.2.2', '::a00:1', 'cgr.dev', ''].map((a) => set.contains(a))).toEqual([false, false, false, false, false, false]);
  });

  it('ignores host bits, and ::/0 never matches IPv4', () => {
    expect(new CidrSet(['10.1.2.3/8']).contains('10.200.0.1')).toBe(true);
    expect(new CidrSet(['::/0']).contains('192.0.2.1')).toBe(false);
    expect(new CidrSet([]).contains('10.0.0.1')).toBe(false);
  });

  it('refuses a block that is not one', () => {
    expect(() => new CidrSet(['10.0.0.0'])).toThrow();
  });
});
