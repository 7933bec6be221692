import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer } from '../../../test/fixtures/dns-server.js';
import type { DnsFixture } from '../../../test/fixtures/dns-server.js';
import { closedPort, startListener } from '../../../test/fixtures/tcp-peers.js';
import { timed } from '../../../test/helpers/timing.js';
import { resolvingDial } from './dial.js';
import type { DialResult } from '../types.js';

let dns: DnsFixture;
let listener: Awaited<ReturnType<typeof startListener>>;
let closed: number;

beforeAll(async () => {
  [dns, listener, closed] = await Promise.all([startDnsServer(), startListener(), closedPort()]);
  dns.set('blob.registry.test', { a: ['127.0.0.1'] });
  dns.set('v6only.registry.test', { aaaa: ['::1'] });
  dns.set('gone.registry.test', { rcode: 'NXDOMAIN' });
  dns.set('blocked.registry.test', { a: ['0.0.0.0'] });
});

afterAll(async () => {
  await Promise.all([dns.close(), listener.close()]);
});

async function dial(host: string, port: number, families?: ('v4' | 'v6')[]): Promise<DialResult> {
  const resolver = { name: dns.address.name, ip: dns.address.ip, port: dns.address.port };
  const { result } = await timed(5000, (signal) => resolvingDial(host, port, { resolver, ...(families && { families }) })(signal));
  if (result.ok) result.socket.destroy();
  return result;
}

describe('resolvingDial', () => {
  it('looks the name up through the given resolver, then connects, timing both', async () => {
    const r = await dial('blob.registry.test', listener.port);
    expect(r).toMatchObject({ ok: true, remoteAddress: '127.0.0.1' });
    if (r.ok) {
      expect(r.lookupSeconds).toBeGreaterThan(0);
      expect(r.connectSeconds).toBeGreaterThan(0);
    }
    expect(dns.queries.some((q) => q.name === 'blob.registry.test' && q.type === 'A')).toBe(true);
  });

  it('falls back to the next family when the first has no address', async () => {
    const server = await startListener('::1');
    try {
      const r = await dial('v6only.registry.test', server.port);
      expect(r).toMatchObject({ ok: true, remoteAddress: '::1' });
    } finally {
      await server.close();
    }
  });

  it('a failed lookup gives the dns reason and names the host', async () => {
    const gone = await dial('gone.registry.test', listener.port);
    expect(gone).toMatchObject({ ok: false, reason: 'nxdomain' });
    if (!gone.ok) expect(gone.message).toContain('looking up gone.registry.test');
    expect(await dial('blocked.registry.test', listener.port, ['v4'])).toMatchObject({ ok: false, reason: 'sinkholed' });
  });

  it('a refused connection is refused; an IP literal is dialled without a lookup', async () => {
    expect(await dial('blob.registry.test', closed)).toMatchObject({ ok: false, reason: 'refused' });
    const before = dns.queries.length;
    const r = await dial('127.0.0.1', listener.port);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.lookupSeconds).toBeUndefined();
    expect(dns.queries.length).toBe(before);
  });
});
