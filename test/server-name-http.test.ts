// targets[].server_name, http.headers and http.expect_body against real origins on
// 127.0.0.1, each compared with curl, the independent judge:
//
//   server_name  an origin whose certificate names a host only, reached as 127.0.0.1:
//                without server_name the name check fails, for the exporter as for curl
//                (ERR_TLS_CERT_ALTNAME_INVALID; curl exit 60); with it, the exporter sends
//                the SNI and Host (:authority) that `curl --resolve NAME:PORT:127.0.0.1`
//                sends, and the chain verifies. Through the daemon (/probe), so the config
//                key reaches the tls and http checks, and through a registry pull.
//   headers      an endpoint that needs a header: 401 without it for both, 200 with it
//                (`curl -H`), the server seeing the same header from both.
//   expect_body  a body that does and does not contain the text, over HTTP/2 and HTTP/1.1;
//                a text past the 64 KiB the check reads (curl reads it all); a text split
//                across two chunks; a body that never ends.
//
// Network: every server listens on 127.0.0.1, port 0; curl only ever talks to it
// (--resolve pins the name, --noproxy '*' keeps proxies out).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCurl } from './fixtures/curl.js';
import type { CurlRun } from './fixtures/curl.js';
import { API_KEY, BIG_BYTES, EARLY_TEXT, HEALTH_BODY, LATE_AT, LATE_TEXT, NAME_ONLY, SPLIT_TEXT, STALL_TEXT, startHealthOrigin } from './fixtures/health-origin.js';
import type { HealthOrigin, SeenRequest } from './fixtures/health-origin.js';
import { getPki } from './fixtures/pki.js';
import { startProxy } from './fixtures/proxies.js';
import type { RunningProxy } from './fixtures/proxies.js';
import { REGISTRY_NAME, REPOSITORY, startRegistryFixture } from './fixtures/registry-server.js';
import type { RegistryFixture } from './fixtures/registry-server.js';
import { startTestExporter, tempDir, writeTestCa } from './helpers/exporter.js';
import type { TestExporterOnFile } from './helpers/exporter.js';
import { Scrape, parseExposition } from './helpers/scrape.js';
import type { HttpExpectation, Target } from '../src/model/types.js';
import { DEFAULT_MAX_BODY_BYTES, probeHttp } from '../src/probes/http/http.js';
import type { HttpResult } from '../src/probes/http/http.js';
import { directDial } from '../src/probes/net/dial.js';

let dir: string;
let rootCaFile: string;
let rootCa: string;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  dir = await tempDir('egress-server-name-');
  rootCa = (await getPki()).rootCa;
  rootCaFile = join(dir, 'root.pem');
  await writeFile(rootCaFile, rootCa);
  await writeTestCa(dir);
});

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
});

async function origin(alpn: 'h2' | 'h1'): Promise<HealthOrigin> {
  const o = await startHealthOrigin(alpn);
  closers.push(o.close);
  return o;
}

interface CurlSays {
  version: string;
  status: number;
  body: string;
  /** Bytes of the body curl read: all of it. */
  size: number;
  run: CurlRun;
}

const WRITE_OUT = '\n%{http_version} %{http_code} %{size_download}';

/** curl --http2 to https://NAME:PORT/path, the name pinned to 127.0.0.1 (or to 127.0.0.1 itself with `name` 127.0.0.1). */
async function curl(port: number, path: string, extra: readonly string[] = [], name: string = NAME_ONLY): Promise<CurlSays> {
  const resolve = name === '127.0.0.1' ? [] : ['--resolve', `${name}:${port}:127.0.0.1`];
  const run = await runCurl(['--http2', '-s', '--noproxy', '*', '--cacert', rootCaFile, '--max-time', '10', '-w', WRITE_OUT, ...resolve, ...extra, `https://${name}:${port}${path}`]);
  const cut = run.stdout.lastIndexOf('\n');
  const [version = '', status = '', size = ''] = run.stdout.slice(cut + 1).trim().split(' ');
  return { version, status: Number(status), size: Number(size), body: run.stdout.slice(0, cut), run };
}

const ipTarget = (port: number): Target => ({ host: '127.0.0.1', port, families: ['v4'], checks: ['http'], labels: {}, purpose: 'test', source: 'test' });

/** The exporter's http probe as the http check runs it for a target 127.0.0.1:PORT with server_name NAME_ONLY. */
async function exporter(o: HealthOrigin, expectation: HttpExpectation, bodyTimeoutMs?: number): Promise<HttpResult> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 10_000);
  try {
    return await probeHttp(ipTarget(o.port), { dial: directDial('127.0.0.1', o.port), servername: NAME_ONLY, ca: [rootCa], expectation, ...(bodyTimeoutMs !== undefined && { bodyTimeoutMs }) }, ac.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** What the origin saw of the request, without what differs by client by nature. */
const seen = (r: SeenRequest | undefined) => (r === undefined ? undefined : { path: r.path, sni: r.sni, authority: r.authority, apiKey: r.headers['x-api-key'] });

describe('server_name: an IP-literal target whose certificate names a host only', () => {
  let bare: HealthOrigin;
  let named: HealthOrigin;
  let namedH1: HealthOrigin;
  let daemon: TestExporterOnFile;

  /** /probe of one target, parsed. */
  const probe = async (port: number): Promise<Scrape> => {
    const response = await fetch(`${daemon.base}/probe?target=127.0.0.1:${port}`);
    const text = await response.text();
    expect(response.status, text).toBe(200);
    return new Scrape(parseExposition(text), text);
  };

  beforeAll(async () => {
    [bare, named, namedH1] = [await origin('h2'), await origin('h2'), await origin('h1')];
    daemon = await startTestExporter(
      `catalog: none
interval: 1h
timeout: 5s
proxy: none
tls: { ca_file: ca.pem }
targets:
  - { host: 127.0.0.1, port: ${bare.port}, checks: [tcp, tls, http], http: { path: /health } }
  - host: 127.0.0.1
    port: ${named.port}
    server_name: ${NAME_ONLY}
    checks: [tcp, tls, http]
    http: { path: /needs-key, headers: { X-Api-Key: ${API_KEY} }, expect_status: [200], expect_body: granted }
  - host: 127.0.0.1
    port: ${namedH1.port}
    server_name: ${NAME_ONLY}
    checks: [tcp, tls, http]
    http: { path: /health, expect_body: '"status":"UP"' }
`,
      { dir },
    );
    closers.push(() => daemon.stop());
  }, 30_000);

  it('without server_name: the name check fails, for the exporter as for curl', async () => {
    const m = await probe(bare.port);
    const at = { host: '127.0.0.1', port: String(bare.port), path: 'direct' };
    expect(m.value('egress_probe_success', { ...at, check: 'tls' })).toBe(0);
    expect(m.value('egress_probe_failure_reason', { ...at, check: 'tls', reason: 'tls_cert_invalid' })).toBe(1);
    expect(m.value('egress_tls_verified', at)).toBe(0);
    expect(m.value('probe_success')).toBe(0);
    const debug = await (await fetch(`${daemon.base}/probe?target=127.0.0.1:${bare.port}&debug=true`)).text();
    expect(debug).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
    // curl to https://127.0.0.1:PORT: "no alternative certificate subject name matches" (exit 60).
    const theirs = await curl(bare.port, '/health', [], '127.0.0.1');
    expect(theirs.run.code, theirs.run.stderr).toBe(60);
    // No SNI for an IP address, from either.
    expect(bare.requests.every((r) => r.sni === '')).toBe(true);
  });

  it('with server_name: the SNI, the verified name and the Host are the name, as curl --resolve sends them; headers and body judged', async () => {
    for (const o of [named, namedH1]) {
      const from = o.requests.length;
      const m = await probe(o.port);
      const at = { host: '127.0.0.1', port: String(o.port), path: 'direct' };
      for (const check of ['tcp', 'tls', 'http']) expect(m.value('egress_probe_success', { ...at, check }), `${check}\n${m.text}`).toBe(1);
      expect(m.value('egress_tls_verified', at)).toBe(1);
      expect(m.value('egress_http_status_code', at)).toBe(200);
      expect(m.value('egress_http_version', at)).toBe(o === named ? 2 : 1.1);
      expect(m.value('probe_success')).toBe(1);
      // One request from the round: the tls check judged the http check's handshake (same SNI).
      const ours = o.requests.slice(from);
      expect(ours).toHaveLength(1);

      const path = o === named ? '/needs-key' : '/health';
      const theirs = await curl(o.port, path, o === named ? ['-H', `X-Api-Key: ${API_KEY}`] : []);
      expect(theirs.run.code, theirs.run.stderr).toBe(0);
      expect(theirs.status).toBe(200);
      expect(theirs.version).toBe(o === named ? '2' : '1.1');
      expect(theirs.body).toContain(o === named ? 'granted' : '"status":"UP"');
      expect(seen(ours[0])).toEqual(seen(o.requests.at(-1)));
      expect(seen(ours[0])).toMatchObject({ path, sni: NAME_ONLY, authority: `${NAME_ONLY}:${o.port}` });
      // The configured header, beside the exporter's own User-Agent.
      if (o === named) expect(ours[0]?.headers).toMatchObject({ 'x-api-key': API_KEY, 'user-agent': expect.stringMatching(/^egress-exporter\//) as unknown });
    }
  });
});

describe('server_name in the registry pull: the registry asked for by name, dialled at the address', () => {
  let registry: RegistryFixture;
  let proxy: RunningProxy;
  let daemon: TestExporterOnFile;

  beforeAll(async () => {
    registry = await startRegistryFixture();
    closers.push(registry.close);
    // The proxy "resolves" only what it is given: the registry at its address, the blob host by name.
    proxy = await startProxy({ mode: 'tunnel', map: { ...registry.ports, [`127.0.0.1:${registry.registryPort}`]: registry.registryPort } });
    closers.push(proxy.close);
    daemon = await startTestExporter(
      `catalog: none
interval: 1h
timeout: 5s
tls: { ca_file: ca.pem }
proxies:
  - { name: corp, url: "${proxy.url}" }
targets:
  - { host: 127.0.0.1, port: ${registry.registryPort}, server_name: ${REGISTRY_NAME}, checks: [tls], private_ca: true }
registries:
  - { host: 127.0.0.1, port: ${registry.registryPort}, repository: ${REPOSITORY} }
`,
      { dir },
    );
    closers.push(() => daemon.stop());
  }, 30_000);

  it('pulls through the proxy: CONNECT to the address, Host the name, the realm on the name dialled at the address', async () => {
    const m = await daemon.scrape();
    const at = { host: '127.0.0.1', port: String(registry.registryPort), path: 'corp' };
    expect(m.value('egress_probe_success', { ...at, check: 'registry' }), m.text).toBe(1);
    expect(m.value('egress_probe_success', { ...at, check: 'tls' }), JSON.stringify(m.find('egress_probe_failure_reason', at))).toBe(1);
    // The registry (and its token endpoint, at https://cgr.dev:PORT/token) saw only its name.
    const atRegistry = registry.requests.filter((r) => r.server === 'registry');
    expect(atRegistry.length).toBeGreaterThanOrEqual(3);
    for (const r of atRegistry) expect(r.headers[':authority'] ?? r.headers.host, r.path).toBe(`${REGISTRY_NAME}:${registry.registryPort}`);
    // Every tunnel to the registry went to its address; the blob host's, by name.
    const targets = new Set(proxy.connects.map((c) => c.target));
    expect(targets).toContain(`127.0.0.1:${registry.registryPort}`);
    expect(targets).not.toContain(`${REGISTRY_NAME}:${registry.registryPort}`);
  });
});

describe('http.headers and expect_body, compared with curl -H', () => {
  for (const alpn of ['h2', 'h1'] as const) {
    describe(`over ${alpn === 'h2' ? 'HTTP/2' : 'HTTP/1.1'}`, () => {
      let o: HealthOrigin;
      const line = () => (alpn === 'h2' ? 'HTTP/2 200 (ALPN h2)' : 'HTTP/1.1 200 (ALPN http/1.1)');
      beforeAll(async () => {
        o = await origin(alpn);
      });

      it('an endpoint that needs a header: 401 without it for both, 200 with it, the same header seen', async () => {
        const needsKey: HttpExpectation = { method: 'GET', path: '/needs-key', expectStatus: [200] };
        const [without, curlWithout] = [await exporter(o, needsKey), await curl(o.port, '/needs-key')];
        expect(curlWithout.status).toBe(401);
        expect(without).toMatchObject({ ok: false, valid: false, reason: 'http_bad_response', status: 401 });
        expect(without.message).toContain('status 401, expected 200');

        const [withKey, curlWith] = [await exporter(o, { ...needsKey, headers: { 'x-api-key': API_KEY } }), await curl(o.port, '/needs-key', ['-H', `X-Api-Key: ${API_KEY}`])];
        expect(curlWith.status).toBe(200);
        expect(withKey).toMatchObject({ ok: true, valid: true, status: 200, protocol: curlWith.version, tlsAuthorized: true });
        const [ours, theirs] = o.requests.slice(-2);
        expect(seen(ours)).toEqual(seen(theirs));
        expect(ours?.headers['x-api-key']).toBe(API_KEY);
      });

      it('a body that contains the text, and one that does not: curl reads the same body', async () => {
        const theirs = await curl(o.port, '/health');
        expect(theirs.body).toBe(HEALTH_BODY);
        expect(await exporter(o, { method: 'GET', path: '/health', expectBody: '"status":"UP"' })).toMatchObject({ ok: true, valid: true, status: 200 });
        const missing = await exporter(o, { method: 'GET', path: '/health', expectBody: '"status":"DOWN"' });
        expect(theirs.body).not.toContain('"status":"DOWN"');
        expect(missing).toMatchObject({ ok: false, valid: false, reason: 'http_bad_response', status: 200 });
        expect(missing.message).toBe(`${line()}: body does not contain "\\"status\\":\\"DOWN\\"" (looked in the whole body, ${theirs.size} bytes)`);
        // A substring, not a pattern: regexp characters are text.
        expect((await exporter(o, { method: 'GET', path: '/health', expectBody: '"status":".."' })).valid).toBe(false);
        // The status is judged first.
        expect((await exporter(o, { method: 'GET', path: '/health', expectStatus: [204], expectBody: 'UP' })).message).toContain('status 200, expected 204');
      });

      it('matches within the 64 KiB it reads: a text past them is not found, while curl reads the whole body', async () => {
        const theirs = await curl(o.port, '/big');
        expect(theirs.size).toBe(BIG_BYTES);
        expect(theirs.body.indexOf(LATE_TEXT)).toBe(LATE_AT);
        expect(LATE_AT).toBeGreaterThan(DEFAULT_MAX_BODY_BYTES);
        const early = await exporter(o, { method: 'GET', path: '/big', expectBody: EARLY_TEXT });
        expect(early).toMatchObject({ ok: true, valid: true });
        // It stops reading once the text is in: far short of the limit.
        expect(early.bodyBytes).toBeLessThan(DEFAULT_MAX_BODY_BYTES);
        const late = await exporter(o, { method: 'GET', path: '/big', expectBody: LATE_TEXT });
        expect(late).toMatchObject({ ok: false, valid: false, reason: 'http_bad_response', bodyBytes: DEFAULT_MAX_BODY_BYTES });
        expect(late.message).toBe(`${line()}: body does not contain "${LATE_TEXT}" (looked in its first 65536 bytes: the check reads at most 65536 bytes of a body)`);
      });

      it('finds a text split across two chunks', async () => {
        expect((await curl(o.port, '/split')).body).toContain(SPLIT_TEXT);
        expect(await exporter(o, { method: 'GET', path: '/split', expectBody: SPLIT_TEXT })).toMatchObject({ ok: true, valid: true });
      });

      it('a body that never ends: the text that came is found at once; one that never comes fails after the body wait', async () => {
        expect(await exporter(o, { method: 'GET', path: '/stall', expectBody: STALL_TEXT })).toMatchObject({ ok: true, valid: true });
        const never = await exporter(o, { method: 'GET', path: '/stall', expectBody: 'complete' }, 300);
        expect(never).toMatchObject({ ok: false, valid: false, reason: 'http_bad_response' });
        expect(never.message).toBe(`${line()}: body does not contain "complete" (looked in the ${Buffer.byteLength(STALL_TEXT)} bytes that came within 300 ms of the response head: the check waits no longer for a body)`);
      });
    });
  }
});
