import { describe, expect, it } from 'vitest';
import { Allowlist } from '../checks/allowlist.js';
import type { Target } from '../model/types.js';
import { AddressBook } from './address-book.js';
import type { FeedSettings } from './feed-settings.js';
import { chooseTargets, listAddresses } from './selection.js';

const s = 1000;

function target(host: string, labels: Record<string, string> = {}, port = 443): Target {
  return { host, port, families: ['v4', 'v6'], checks: ['dns'], labels, purpose: '', source: 'config' };
}

const SETTINGS: FeedSettings = { resolvers: null, allowlist: null, retention: { refreshMs: 0, graceMs: 0 }, limits: { maxAddresses: 10, maxBytes: 1000 }, lists: [] };
const CGR = target('cgr.dev', { team: 'platform' });
const APK = target('apk.cgr.dev', { team: 'platform', tier: '1' });
const OTHER = target('other.example');

function book(): AddressBook {
  const b = new AddressBook();
  b.observe(
    { key: 'cgr.dev:443', host: 'cgr.dev', port: 443 },
    [
      { family: 'v4', resolver: '1.1.1.1:53', kind: 'addresses', addresses: ['104.16.2.1', '104.16.10.1'], ttlSeconds: 60 },
      { family: 'v4', resolver: '8.8.8.8:53', kind: 'addresses', addresses: ['198.51.100.7'], ttlSeconds: 60 },
      { family: 'v6', resolver: '1.1.1.1:53', kind: 'addresses', addresses: ['2606:4700::1'], ttlSeconds: 300 },
    ],
    100 * s,
  );
  b.observe({ key: 'apk.cgr.dev:443', host: 'apk.cgr.dev', port: 443 }, [{ family: 'v4', resolver: '1.1.1.1:53', kind: 'addresses', addresses: ['104.16.2.1'], ttlSeconds: 30 }], 100 * s);
  return b;
}

describe('chooseTargets', () => {
  it('takes the hosts given (all when null) that carry every label given', () => {
    const all = [CGR, APK, OTHER];
    expect(chooseTargets(all, { hosts: null, labels: {} })).toEqual(all);
    expect(chooseTargets(all, { hosts: ['cgr.dev', 'other.example'], labels: {} })).toEqual([CGR, OTHER]);
    expect(chooseTargets(all, { hosts: null, labels: { team: 'platform', tier: '1' } })).toEqual([APK]);
    expect(chooseTargets(all, { hosts: ['cgr.dev'], labels: { tier: '1' } })).toEqual([]);
    // A host whose direct path must stay blocked is never listed for a firewall: it would open it.
    const canary: Target = { ...target('canary.example'), expect: 'blocked' };
    const bypass: Target = { ...target('bypass.example'), expect: { direct: 'blocked', corp: 'reachable' } };
    const filtered: Target = { ...target('filtered.example'), expect: { corp: 'blocked' } };
    expect(chooseTargets([CGR, canary, bypass, filtered], { hosts: null, labels: {} })).toEqual([CGR, filtered]);
  });
});

describe('listAddresses', () => {
  it('lists every address of the chosen targets once, in order, with every sighting behind it', () => {
    const listing = listAddresses(book(), [CGR, APK], ['v4', 'v6'], SETTINGS, 110 * s);
    expect(listing.addresses).toEqual(['104.16.2.1', '104.16.10.1', '198.51.100.7', '2606:4700::1']);
    expect(listing.sightings.filter((x) => x.address === '104.16.2.1').map((x) => x.host)).toEqual(['apk.cgr.dev', 'cgr.dev']);
    // apk.cgr.dev's answer expires first: seen at 100 s with a TTL of 30 s.
    expect(listing.nextExpiryMs).toBe(130 * s);
  });

  it('lists only the families asked for', () => {
    expect(listAddresses(book(), [CGR], ['v6'], SETTINGS, 110 * s).addresses).toEqual(['2606:4700::1']);
  });

  it('lists only the answers of the resolvers chosen for the feed', () => {
    const settings = { ...SETTINGS, resolvers: new Set(['8.8.8.8:53']) };
    expect(listAddresses(book(), [CGR, APK], ['v4', 'v6'], settings, 110 * s).addresses).toEqual(['198.51.100.7']);
  });

  it('never lists an address outside dns.allowlist_cidrs', () => {
    const settings = { ...SETTINGS, allowlist: new Allowlist(['104.16.0.0/13', '2606:4700::/32']) };
    expect(listAddresses(book(), [CGR], ['v4', 'v6'], settings, 110 * s).addresses).toEqual(['104.16.2.1', '104.16.10.1', '2606:4700::1']);
  });

  it('drops an address at the end of its retention: last seen + TTL + firewall refresh + grace', () => {
    const settings = { ...SETTINGS, retention: { refreshMs: 20 * s, graceMs: 10 * s } };
    // apk.cgr.dev's 104.16.2.1: 100 s + 30 s + 20 s + 10 s = 160 s; cgr.dev's own (TTL 60) still holds it.
    expect(listAddresses(book(), [APK], ['v4'], settings, 160 * s - 1).addresses).toEqual(['104.16.2.1']);
    expect(listAddresses(book(), [APK], ['v4'], settings, 160 * s).addresses).toEqual([]);
    expect(listAddresses(book(), [CGR, APK], ['v4'], settings, 160 * s).addresses).toEqual(['104.16.2.1', '104.16.10.1', '198.51.100.7']);
  });

  it('lists a target that is an IP address as it is, with nothing to expire', () => {
    const literal = target('192.0.2.50');
    const listing = listAddresses(new AddressBook(), [literal, target('2001:db8::50')], ['v4'], SETTINGS, 0);
    expect(listing.addresses).toEqual(['192.0.2.50']);
    expect(listing.sightings[0]).toMatchObject({ resolver: null, ttlSeconds: null, expiresAtMs: Number.POSITIVE_INFINITY });
    expect(listing.nextExpiryMs).toBe(Number.POSITIVE_INFINITY);
  });
});
