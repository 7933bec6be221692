import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedAnswer, FeedRequest } from '../feed/address-feed.js';
import type { Listing } from '../feed/selection.js';
import { addressesRoute } from './addresses-route.js';

const LISTING: Listing = {
  addresses: ['104.16.2.1', '2606:4700::1'],
  sightings: [
    { address: '104.16.2.1', family: 'v4', host: 'cgr.dev', port: 443, resolver: 'system', firstSeenMs: 0, lastSeenMs: 0, ttlSeconds: 60, expiresAtMs: 60_000, held: false },
    { address: '2606:4700::1', family: 'v6', host: 'cgr.dev', port: 443, resolver: 'system', firstSeenMs: 0, lastSeenMs: 0, ttlSeconds: 60, expiresAtMs: 60_000, held: false },
  ],
  nextExpiryMs: 60_000,
};

function listing(overLimit: string | null = null): FeedAnswer {
  return { kind: 'listing', list: null, families: ['v4', 'v6'], listing: LISTING, size: { addresses: 2, bytes: 24 }, limits: { maxAddresses: 5000, maxBytes: 1_000_000 }, overLimit, generatedAtMs: 0 };
}

describe('/addresses', () => {
  const asked: FeedRequest[] = [];
  let next: FeedAnswer = listing();
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = express();
    const route = addressesRoute({
      answer: (request) => {
        asked.push(request);
        return next;
      },
    });
    app.get('/addresses', route);
    app.get('/addresses/:list', route);
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  async function get(path: string, answer: FeedAnswer = listing()): Promise<{ status: number; type: string | null; body: string; headers: Headers }> {
    next = answer;
    asked.length = 0;
    const response = await fetch(`${base}${path}`);
    return { status: response.status, type: response.headers.get('content-type'), body: await response.text(), headers: response.headers };
  }

  it('serves plain text, one address a line, never cached', async () => {
    const r = await get('/addresses');
    expect(r).toMatchObject({ status: 200, type: 'text/plain; charset=utf-8', body: '104.16.2.1\n2606:4700::1\n' });
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(asked).toEqual([{ hosts: null, labels: {}, families: null }]);
  });

  it('reads host, label and family, each repeatable', async () => {
    await get('/addresses?host=CGR.dev.&host=apk.cgr.dev&label=team:platform&label=env:a:b&family=v6&family=v4');
    expect(asked).toEqual([{ hosts: ['cgr.dev', 'apk.cgr.dev'], labels: { team: 'platform', env: 'a:b' }, families: ['v4', 'v6'] }]);
    await get('/addresses/chainguard');
    expect(asked).toEqual([{ list: 'chainguard' }]);
  });

  it('writes comments only when asked', async () => {
    const r = await get('/addresses?host=cgr.dev&family=v4&comments=true');
    expect(r.body).toBe('# egress-exporter address feed: host=cgr.dev&family=v4: 2 addresses at 1970-01-01T00:00:00.000Z\n# cgr.dev\n104.16.2.1\n# cgr.dev\n2606:4700::1\n');
    expect((await get('/addresses/chainguard?comments=false')).body).toBe('104.16.2.1\n2606:4700::1\n');
  });

  it('serves JSON and nftables', async () => {
    const json = await get('/addresses?format=json');
    expect(json.type).toBe('application/json; charset=utf-8');
    expect(JSON.parse(json.body)).toMatchObject({ addresses: ['104.16.2.1', '2606:4700::1'], overLimit: null });
    const nft = await get('/addresses/chainguard?format=nft&table=filter');
    expect(nft.body).toContain('table inet filter {\n\tset chainguard_v4 {');
    expect(nft.body).toContain('add element inet filter chainguard_v6 {\n\t2606:4700::1\n}\n');
    expect((await get('/addresses?format=nft&set=allowed')).body).toContain('flush set inet egress allowed_v4\n');
  });

  it('answers 400 naming the parameter that is wrong', async () => {
    const cases: Array<[string, string]> = [
      ['/addresses?hosts=cgr.dev', 'unknown parameter "hosts": /addresses takes host, label, family, format, comments, table, set'],
      ['/addresses/chainguard?host=cgr.dev', 'host: not with a named list, whose targets come from feed.lists in the config; /addresses?host=... makes a list of your own'],
      ['/addresses/chainguard?x=1', 'unknown parameter "x": /addresses/<list> takes format, comments, table, set'],
      ['/addresses?format=csv', 'format: expected text, json or nft, got "csv"'],
      ['/addresses?format=text&format=json', 'format: given 2 times, expected once'],
      ['/addresses?comments=yes', 'comments: expected true or false, got "yes"'],
      ['/addresses?family=ipv4', 'family: expected v4 or v6, got "ipv4"'],
      ['/addresses?host=http://cgr.dev', 'host: expected a host name or IP address, got "http://cgr.dev"'],
      ['/addresses?label=team', 'label: expected name:value, got "team"'],
      ['/addresses?label=team:a&label=team:b', 'label: team given twice (a target has one value of each label)'],
      ['/addresses?table=filter', 'table: only with format=nft'],
      ['/addresses?format=nft&set=my%20set', `set: expected a name of up to 64 letters, digits, '_' or '-', starting with a letter, got "my set"`],
    ];
    for (const [path, message] of cases) {
      const r = await get(path);
      expect({ path, status: r.status, body: r.body }).toEqual({ path, status: 400, body: `${message}\n` });
      expect(asked, path).toEqual([]);
    }
    const feedSays = await get('/addresses?host=nope.example', { kind: 'bad-request', parameter: 'host', message: '"nope.example" is not the host of any target' });
    expect(feedSays).toMatchObject({ status: 400, body: 'host: "nope.example" is not the host of any target\n' });
  });

  it('answers 404 for a list that is not configured', async () => {
    expect(await get('/addresses/nope', { kind: 'no-such-list', message: 'no list named "nope": feed.lists is empty' })).toMatchObject({
      status: 404,
      body: 'no list named "nope": feed.lists is empty\n',
    });
  });

  it('answers 503 with the reason, never an empty 200, while the list is not ready', async () => {
    const r = await get('/addresses/chainguard', { kind: 'not-ready', message: 'not ready: waiting for the first round' });
    expect(r).toMatchObject({ status: 503, body: 'not ready: waiting for the first round\n' });
    expect(r.headers.get('retry-after')).toBe('10');
  });

  it('refuses a firewall format over a limit whole, and still shows it as JSON', async () => {
    const reason = 'the list would hold 6000 addresses, more than feed.max_addresses (5000)';
    for (const format of ['text', 'nft']) {
      const r = await get(`/addresses/chainguard?format=${format}`, listing(reason));
      expect(r).toMatchObject({
        status: 503,
        body: `refused: ${reason}; a firewall list is never cut short, so the firewall keeps the list it has (format=json shows this one)\n`,
      });
    }
    const json = await get('/addresses/chainguard?format=json', listing(reason));
    expect(json.status).toBe(200);
    expect(JSON.parse(json.body)).toMatchObject({ overLimit: reason });
  });
});
