// DNS probe against an in-process DNS server on 127.0.0.1 only: no test ever
// touches the system resolver.
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer } from '../../../test/fixtures/dns-server.js';
import type { DnsFixture } from '../../../test/fixtures/dns-server.js';
import { eventually } from '../../../test/helpers/timing.js';
import { MAX_ADDRESSES_PER_RECORD, isSinkholeAddress, isUnspecifiedAddress, probeDns, sinkholePolicy } from './dns.js';
import type { DnsProbeOptions } from './dns.js';
import type { Family, Target } from '../../model/types.js';

function target(host: string, families: Family[] = ['v4', 'v6']): Target {
  return { host, port: 443, families, checks: ['dns'], labels: {}, purpose: 'test', source: 'config' };
}

const LONG = 10_000;

describe('probeDns against a loopback DNS server', () => {
  let dns: DnsFixture;
  let opts: DnsProbeOptions;

  beforeAll(async () => {
    dns = await startDnsServer({
      'both.example': { a: ['192.0.2.20', '192.0.2.3', '192.0.2.20'], aaaa: ['2001:db8:0:0:0:0:0:1', '2001:db8::1', '2001:0db8::a'], ttl: 120 },
      'v4only.example': { a: ['192.0.2.7'] },
      'alias.example': { cname: 'cdn.example', ttl: 600 },
      'cdn.example': { cname: 'edge.example', ttl: 600 },
      'edge.example': { a: ['198.51.100.9'], ttl: 45 },
      'servfail.example': { rcode: 'SERVFAIL' },
      'garbage.example': { garbage: true },
      'refused.example': { rcode: 'REFUSED' },
      'silent.example': { silent: true },
      'sinkhole.example': { a: ['0.0.0.0', '127.0.0.1', '10.1.2.3'], aaaa: ['::', '::1', 'fe80::1'] },
      'mixed.example': { a: ['192.0.2.1', '10.0.0.1'] },
    });
    // Fixtures are loopback, so "healthy" answers would look sinkholed; tests that
    // are about sinkholes turn it back on.
    opts = { resolver: { ...dns.address }, sinkhole: () => false };
  });

  afterAll(async () => {
    await dns.close();
  });

  it('reports A and AAAA with unique, sorted, canonical addresses and the minimum TTL', async () => {
    const result = await probeDns(target('both.example'), opts, AbortSignal.timeout(LONG));
    expect(result.ok).toBe(true);
    expect(result.reason).toBeUndefined();
    expect(result.resolver).toBe(dns.address.name);
    expect(result.cnameChain).toEqual([]);
    expect(result.records).toHaveLength(2);
    const [v4, v6] = result.records;
    expect(v4).toMatchObject({ type: 'A', family: 'v4', ok: true, addresses: ['192.0.2.20', '192.0.2.3'], ttl: 120 });
    expect(v6).toMatchObject({ type: 'AAAA', family: 'v6', ok: true, addresses: ['2001:db8::1', '2001:db8::a'], ttl: 120 });
    expect(v4?.reason).toBeUndefined();
    expect(result.durationSeconds).toBeGreaterThan(0);
    expect(v4?.durationSeconds ?? Infinity).toBeLessThanOrEqual(result.durationSeconds);
  });

  it('reports records in target.families order, one per family', async () => {
    const result = await probeDns(target('both.example', ['v6', 'v4']), opts, AbortSignal.timeout(LONG));
    expect(result.records.map((r) => r.type)).toEqual(['AAAA', 'A']);
    const v4Only = await probeDns(target('both.example', ['v4']), opts, AbortSignal.timeout(LONG));
    expect(v4Only.records.map((r) => r.type)).toEqual(['A']);
  });

  it('takes the minimum TTL when records of a set differ', async () => {
    dns.set('ttl.example', {
      a: [{ address: '192.0.2.1', ttl: 90 }, { address: '192.0.2.2', ttl: 7 }, '192.0.2.3'],
      aaaa: [{ address: '2001:db8::2', ttl: 3600 }, { address: '2001:db8::1', ttl: 31 }],
      ttl: 500,
    });
    const result = await probeDns(target('ttl.example'), opts, AbortSignal.timeout(LONG));
    expect(result.records[0]).toMatchObject({ ok: true, addresses: ['192.0.2.1', '192.0.2.2', '192.0.2.3'], ttl: 7 });
    expect(result.records[1]).toMatchObject({ ok: true, addresses: ['2001:db8::1', '2001:db8::2'], ttl: 31 });
  });

  it('sees a TTL counting down across two probes (no cache between probes)', async () => {
    dns.set('countdown.example', { a: ['192.0.2.60'], ttl: 60 });
    const first = await probeDns(target('countdown.example', ['v4']), opts, AbortSignal.timeout(LONG));
    dns.set('countdown.example', { a: ['192.0.2.60'], ttl: 59 });
    const second = await probeDns(target('countdown.example', ['v4']), opts, AbortSignal.timeout(LONG));
    expect(first.records[0]?.ttl).toBe(60);
    expect(second.records[0]?.ttl).toBe(59);
  });

  it('sees the address set change between probes', async () => {
    dns.set('moving.example', { a: ['192.0.2.1', '192.0.2.2'] });
    const before = await probeDns(target('moving.example', ['v4']), opts, AbortSignal.timeout(LONG));
    dns.set('moving.example', { a: ['192.0.2.3'] });
    const after = await probeDns(target('moving.example', ['v4']), opts, AbortSignal.timeout(LONG));
    expect(before.records[0]?.addresses).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(after.records[0]?.addresses).toEqual(['192.0.2.3']);
  });

  it('follows a two-hop CNAME chain and reports the final A record TTL', async () => {
    const result = await probeDns(target('alias.example', ['v4']), opts, AbortSignal.timeout(LONG));
    expect(result.ok).toBe(true);
    expect(result.cnameChain).toEqual(['cdn.example', 'edge.example']);
    expect(result.records[0]).toMatchObject({ ok: true, addresses: ['198.51.100.9'], ttl: 45 });
    expect(result.message).toContain('cdn.example -> edge.example');
  });

  it('reports the effective TTL of a CNAME-flattened answer: the lowest in the chain', async () => {
    // c-ares (1.34) caps the address TTL by the CNAME TTLs it passed through, so a
    // short-lived alias shows up as a short TTL even when the A record lives longer.
    dns.set('short-alias.example', { cname: 'long-edge.example', ttl: 30 });
    dns.set('long-edge.example', { a: ['198.51.100.10'], ttl: 3000 });
    const result = await probeDns(target('short-alias.example', ['v4']), opts, AbortSignal.timeout(LONG));
    expect(result.cnameChain).toEqual(['long-edge.example']);
    expect(result.records[0]).toMatchObject({ ok: true, addresses: ['198.51.100.10'], ttl: 30 });
  });

  it('maps NXDOMAIN to nxdomain', async () => {
    const result = await probeDns(target('missing.example'), opts, AbortSignal.timeout(LONG));
    expect(result.ok).toBe(false);
    expect(result.reason).toBe('nxdomain');
    expect(result.records.map((r) => r.reason)).toEqual(['nxdomain', 'nxdomain']);
    expect(result.records[0]).toMatchObject({ addresses: [], ttl: null });
  });

  it('maps SERVFAIL to servfail', async () => {
    const result = await probeDns(target('servfail.example'), opts, AbortSignal.timeout(LONG));
    expect(result).toMatchObject({ ok: false, reason: 'servfail' });
  });

  it('classifies an answer that is not DNS as dns_error, within the deadline', async () => {
    const started = Date.now();
    const result = await probeDns(target('garbage.example', ['v4']), opts, AbortSignal.timeout(2000));
    expect(result).toMatchObject({ ok: false, reason: 'dns_error' });
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('maps REFUSED to refused', async () => {
    const result = await probeDns(target('refused.example'), opts, AbortSignal.timeout(LONG));
    expect(result).toMatchObject({ ok: false, reason: 'refused' });
  });

  it('fails only the v6 record with nodata for a name without AAAA', async () => {
    const result = await probeDns(target('v4only.example'), opts, AbortSignal.timeout(LONG));
    expect(result.ok).toBe(false);
    expect(result.reason).toBe('nodata');
    const [v4, v6] = result.records;
    expect(v4).toMatchObject({ ok: true, addresses: ['192.0.2.7'], ttl: 300 });
    expect(v6).toMatchObject({ ok: false, reason: 'nodata', addresses: [], ttl: null });
  });

  it('resolves with timeout soon after the deadline when the server is silent', async () => {
    const queriesBefore = dns.queries.length;
    const result = await probeDns(target('silent.example'), opts, AbortSignal.timeout(300));
    expect(result.ok).toBe(false);
    expect(result.reason).toBe('timeout');
    expect(result.records.map((r) => r.reason)).toEqual(['timeout', 'timeout']);
    expect(result.durationSeconds).toBeGreaterThanOrEqual(0.25);
    expect(result.durationSeconds).toBeLessThan(1.5);
    // The queries did reach the server: this is silence, not a local failure.
    expect(dns.queries.slice(queriesBefore).map((q) => q.name)).toContain('silent.example');
  });

  it('times out when the whole server goes silent', async () => {
    dns.silentAll = true;
    try {
      const result = await probeDns(target('both.example'), opts, AbortSignal.timeout(200));
      expect(result).toMatchObject({ ok: false, reason: 'timeout' });
      expect(result.durationSeconds).toBeLessThan(1.5);
    } finally {
      dns.silentAll = false;
    }
  });

  it('resolves immediately with timeout when the signal is already aborted', async () => {
    const queriesBefore = dns.queries.length;
    const controller = new AbortController();
    controller.abort();
    const result = await probeDns(target('both.example'), opts, controller.signal);
    expect(result).toMatchObject({ ok: false, reason: 'timeout', cnameChain: [] });
    expect(result.records.map((r) => r.reason)).toEqual(['timeout', 'timeout']);
    expect(result.durationSeconds).toBeLessThan(0.1);
    expect(dns.queries.length).toBe(queriesBefore);
  });

  it('sends nothing through the system resolver when the signal is already aborted', async () => {
    // The only test that names 'system': it must not (and does not) send a packet.
    const controller = new AbortController();
    controller.abort();
    const result = await probeDns(target('both.example'), { resolver: 'system' }, controller.signal);
    expect(result).toMatchObject({ ok: false, reason: 'timeout', resolver: 'system' });
  });

  it('returns a defined reason, not an exception, when the server port is closed', async () => {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(resolve));
    const closed = { name: `127.0.0.1:${port}`, ip: '127.0.0.1', port };
    const result = await probeDns(target('both.example'), { resolver: closed, sinkhole: () => false }, AbortSignal.timeout(5_000));
    expect(result.ok).toBe(false);
    expect(result.resolver).toBe(closed.name);
    // ICMP port unreachable comes back as ECONNREFUSED: the resolver is unreachable,
    // which must not read as the server answering REFUSED.
    expect(result.reason).toBe('unreachable');
  });

  it('flags loopback, unspecified, RFC1918 and link-local answers as sinkholed', async () => {
    const result = await probeDns(target('sinkhole.example'), { ...opts, sinkhole: isSinkholeAddress }, AbortSignal.timeout(LONG));
    expect(result.ok).toBe(false);
    expect(result.reason).toBe('sinkholed');
    const [v4, v6] = result.records;
    // Addresses are still reported, for the operator.
    expect(v4).toMatchObject({ ok: false, reason: 'sinkholed', addresses: ['0.0.0.0', '10.1.2.3', '127.0.0.1'] });
    expect(v6).toMatchObject({ ok: false, reason: 'sinkholed', addresses: ['::', '::1', 'fe80::1'] });
  });

  it('fails a record where only some addresses are sinkholed', async () => {
    const result = await probeDns(target('mixed.example', ['v4']), { ...opts, sinkhole: isSinkholeAddress }, AbortSignal.timeout(LONG));
    expect(result.records[0]).toMatchObject({ ok: false, reason: 'sinkholed', addresses: ['10.0.0.1', '192.0.2.1'] });
    expect(result.records[0]?.message).toContain('10.0.0.1');
    expect(result.records[0]?.message).not.toContain('192.0.2.1');
  });

  it('accepts the same sinkhole answers when detection is off', async () => {
    const result = await probeDns(target('sinkhole.example'), { ...opts, sinkhole: () => false }, AbortSignal.timeout(LONG));
    expect(result.ok).toBe(true);
    expect(result.records.every((r) => r.ok)).toBe(true);
  });
});

describe('probeDns against hostile answers', () => {
  let dns: DnsFixture;
  let udpOnly: DnsFixture;
  const zone = {
    'loop-a.example': { cname: 'loop-b.example' },
    'loop-b.example': { cname: 'loop-a.example' },
    'self-loop.example': { cname: 'self-loop.example' },
    'dangling.example': { cname: 'empty.example' },
    'empty.example': { aaaa: ['2001:db8::1'] },
    'dangling-nx.example': { cname: 'nowhere.example' },
    // Over UDP, TC and only the first address; over TCP, all three.
    'truncated.example': { truncate: true, a: ['192.0.2.1', '192.0.2.2', '192.0.2.3'], ttl: 60 },
    'huge.example': { a: Array.from({ length: 200 }, (_, i) => `198.51.100.${i + 1}`), ttl: 60 },
    'wrong-id.example': { wrongId: true, a: ['192.0.2.1'] },
  };

  beforeAll(async () => {
    dns = await startDnsServer(zone);
    udpOnly = await startDnsServer(zone, { tcp: false });
  });
  afterAll(async () => {
    await dns.close();
    await udpOnly.close();
  });

  const probe = (host: string, server: DnsFixture, ms = LONG) =>
    probeDns(target(host, ['v4']), { resolver: { ...server.address }, sinkhole: () => false }, AbortSignal.timeout(ms));

  it('fails a CNAME loop with dns_error, not ok with no address', async () => {
    for (const host of ['loop-a.example', 'self-loop.example']) {
      const result = await probe(host, dns);
      expect(result, host).toMatchObject({ ok: false, reason: 'dns_error' });
      expect(result.records[0], host).toMatchObject({ ok: false, reason: 'dns_error', addresses: [], ttl: null });
      expect(result.records[0]?.message, host).toContain('CNAME loop');
    }
  });

  it('fails a CNAME to a name without an address with nodata, naming the end of the chain', async () => {
    const result = await probe('dangling.example', dns);
    expect(result).toMatchObject({ ok: false, reason: 'nodata', cnameChain: ['empty.example'] });
    expect(result.records[0]).toMatchObject({ ok: false, reason: 'nodata', addresses: [], ttl: null });
    expect(result.records[0]?.message).toContain('empty.example');
  });

  it('fails a CNAME to a name that does not exist with nxdomain', async () => {
    const result = await probe('dangling-nx.example', dns);
    expect(result).toMatchObject({ ok: false, reason: 'nxdomain', cnameChain: ['nowhere.example'] });
  });

  it('retries a truncated answer over TCP and uses the TCP answer', async () => {
    const result = await probe('truncated.example', dns);
    expect(result.ok).toBe(true);
    expect(result.records[0]).toMatchObject({ ok: true, addresses: ['192.0.2.1', '192.0.2.2', '192.0.2.3'], ttl: 60 });
    expect(dns.queries.filter((q) => q.name === 'truncated.example' && q.type === 'A').map((q) => q.transport)).toEqual(['udp', 'tcp']);
    // c-ares closes its TCP connection once the answer is in.
    expect(await eventually(() => dns.tcpConnections() === 0)).toBe(true);
  });

  it('reads a truncated answer whose TCP retry is refused as unreachable (the resolver cannot be reached over TCP)', async () => {
    const result = await probe('truncated.example', udpOnly);
    expect(result).toMatchObject({ ok: false, reason: 'unreachable' });
    expect(result.records[0]).toMatchObject({ addresses: [], ttl: null });
  });

  it('caps a huge answer at MAX_ADDRESSES_PER_RECORD and says how many came', async () => {
    const result = await probe('huge.example', dns);
    expect(result.ok).toBe(true);
    const record = result.records[0];
    expect(record?.addresses).toHaveLength(MAX_ADDRESSES_PER_RECORD);
    expect(record?.answered).toBe(200);
    // The kept addresses are the first in sorted order, so the set is stable across rounds.
    expect(record?.addresses[0]).toBe('198.51.100.1');
    expect(record?.message).toBe(`200 addresses answered, kept the first ${MAX_ADDRESSES_PER_RECORD}`);
    expect(result.message).toContain(`kept ${MAX_ADDRESSES_PER_RECORD} of 200`);
  });

  it('ignores an answer with the wrong id and times out at the deadline', async () => {
    const result = await probe('wrong-id.example', dns, 500);
    expect(result).toMatchObject({ ok: false, reason: 'timeout' });
    expect(result.durationSeconds).toBeLessThan(1.5);
  });
});

describe('probeDns against a server on ::1', () => {
  let dns: DnsFixture;

  beforeAll(async () => {
    dns = await startDnsServer({ 'v6server.example': { a: ['192.0.2.1'], aaaa: ['2001:db8::1'], ttl: 99 } }, { ip: '::1' });
  });

  afterAll(async () => {
    await dns.close();
  });

  it('reaches an IPv6 resolver address', async () => {
    expect(dns.address.name).toMatch(/^\[::1\]:\d+$/);
    const result = await probeDns(target('v6server.example'), { resolver: dns.address, sinkhole: () => false }, AbortSignal.timeout(LONG));
    expect(result).toMatchObject({ ok: true, resolver: dns.address.name });
    expect(result.records.map((r) => [r.addresses, r.ttl])).toEqual([
      [['192.0.2.1'], 99],
      [['2001:db8::1'], 99],
    ]);
  });
});

describe('isSinkholeAddress', () => {
  it.each([
    ['0.1.2.3', true],
    ['127.0.0.53', true],
    ['10.255.0.1', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['100.127.255.255', true],
    ['::', true],
    ['::1', true],
    ['fd00::1', true],
    ['fe80::1', true],
    ['::ffff:10.0.0.1', true],
    ['172.32.0.1', false],
    ['100.128.0.1', false],
    ['8.8.8.8', false],
    ['2606:4700::1111', false],
    ['not-an-ip', false],
  ])('%s -> %s', (address, expected) => {
    expect(isSinkholeAddress(address)).toBe(expected);
  });
});

describe('sinkholePolicy', () => {
  it('judges every non-public answer from the system or a remote resolver', () => {
    for (const resolver of ['system', { name: '192.0.2.53:53', ip: '192.0.2.53', port: 53 }] as const) {
      const isSinkhole = sinkholePolicy(resolver);
      expect(['0.0.0.0', '127.0.0.1', '10.1.2.3', '::1'].map(isSinkhole)).toEqual([true, true, true, true]);
      expect(isSinkhole('104.18.0.1')).toBe(false);
    }
  });

  it('lets a loopback resolver (a local cache or lab) answer loopback and private addresses, never 0.0.0.0', () => {
    for (const ip of ['127.0.0.1', '::1']) {
      const isSinkhole = sinkholePolicy({ name: `${ip}:5353`, ip, port: 5353 });
      expect(['127.0.0.1', '10.1.2.3', '::1', '0.0.0.0', '::'].map(isSinkhole)).toEqual([false, false, false, true, true]);
    }
    expect(isUnspecifiedAddress('0.9.9.9')).toBe(true);
    expect(isUnspecifiedAddress('::ffff:0.0.0.0')).toBe(true);
  });
});
