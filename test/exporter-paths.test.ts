// Paths end to end: one HTTP/2 origin reached directly and through five fixture
// proxies (a plain tunnel, a TLS-inspecting one that speaks only HTTP/1.1, one
// denying .dev, one wanting credentials, one that never answers), judged from a scrape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { startOrigin } from './fixtures/http-servers.js';
import type { RunningOrigin } from './fixtures/http-servers.js';
import { getPki } from './fixtures/pki.js';
import { startProxy } from './fixtures/proxies.js';
import type { RunningProxy } from './fixtures/proxies.js';
import { memoryLogger, startTestExporter, tempDir, writeTestCa } from './helpers/exporter.js';
import type { TestExporter } from './helpers/exporter.js';
import type { Scrape } from './helpers/scrape.js';

const log = memoryLogger();

describe('checks over every path', () => {
  let dns: DnsFixture;
  let origin: RunningOrigin;
  const proxies: Record<string, RunningProxy> = {};
  let exporter: TestExporter;
  let m: Scrape;
  const host = 'cgr.dev';

  beforeAll(async () => {
    const dir = await tempDir('egress-paths-');
    await writeTestCa(dir);
    origin = await startOrigin('h2');
    const map = { [`${host}:${origin.port}`]: origin.port };
    proxies.tunnel = await startProxy({ mode: 'tunnel', map });
    proxies.bump = await startProxy({ mode: 'intercept', map });
    proxies.deny = await startProxy({ mode: 'tunnel', map, denySuffixes: ['.dev'] });
    proxies.auth = await startProxy({ mode: 'tunnel', map, credentials: { user: 'probe', pass: 'p@ss word' } });
    proxies.silent = await startProxy({ mode: 'silent', map });
    dns = await startDnsServer({ [host]: { a: ['127.0.0.1'], ttl: 600 } });
    const proxyList = Object.entries(proxies)
      .map(([name, p]) => `  - { name: ${name}, url: "${p.url}" }`)
      .join('\n');
    exporter = await startTestExporter(
      `catalog: none
interval: 30s
timeout: 2s
dns: { servers: ["${dns.address.name}"] }
tls: { ca_file: ca.pem, requirements: [tls13_aes_256_gcm_sha384, tls12_ecdhe_ecdsa_aes_256_gcm_sha384, extended_master_secret, group_p256, sig_ecdsa_secp256r1_sha256, sig_rsa_pss_rsae_sha256, alpn_h2, baseline] }
compare_direct: true
proxies:
${proxyList}
  - { name: authok, url: "http://probe:p%40ss%20word@127.0.0.1:${proxies.auth.port}" }
targets:
  - host: ${host}
    port: ${origin.port}
    http: { path: /v2/, expect_status: [401], expect_headers: { docker-distribution-api-version: registry/2.0 } }
`,
      { dir, logger: log.logger },
    );
    m = await exporter.scrape();
  }, 30_000);

  afterAll(async () => {
    await exporter.stop();
    await dns.close();
    await origin.close();
    await Promise.all(Object.values(proxies).map((p) => p.close()));
  });

  const at = (path: string) => ({ host, path });
  const reason = (path: string, check: string) => m.find('egress_probe_failure_reason', { host, path, check }).map((s) => s.labels.reason);

  it('gets HTTP/2 and the registry answer directly and through a plain tunnel', () => {
    for (const path of ['direct', 'tunnel', 'authok']) {
      expect(m.value('egress_http_version', at(path)), path).toBe(2);
      expect(m.value('egress_http_status_code', at(path)), path).toBe(401);
      expect(m.value('egress_http_response_valid', at(path)), path).toBe(1);
      expect(m.value('egress_http2_downgraded', at(path)), path).toBe(0);
      expect(m.value('egress_probe_success', { ...at(path), check: 'http' }), path).toBe(1);
      expect(m.value('egress_tls_intercepted', at(path)), path).toBe(0);
    }
    for (const phase of ['connect', 'tls', 'first_byte']) expect(m.value('egress_http_duration_seconds', { ...at('tunnel'), phase }), phase).toBeGreaterThan(0);
    expect(m.value('egress_http_duration_seconds', { ...at('tunnel'), phase: 'proxy_connect' })).toBeGreaterThan(0);
    expect(m.value('egress_http_duration_seconds', { ...at('direct'), phase: 'dns' })).toBeGreaterThan(0);
    expect(m.find('egress_http_duration_seconds', { ...at('direct'), phase: 'proxy_connect' })).toEqual([]);
    expect(m.value('egress_proxy_connect_duration_seconds_count', { path: 'tunnel' })).toBeGreaterThanOrEqual(1);
    expect(m.value('egress_probe_success', { ...at('tunnel'), check: 'tcp' })).toBe(1);
  });

  it('names the downgrade and the interception of a TLS-inspecting proxy, and reports its TLS verdicts', () => {
    expect(m.value('egress_http_version', at('bump'))).toBe(1.1);
    expect(m.value('egress_http2_downgraded', at('bump'))).toBe(1);
    expect(m.value('egress_tls_intercepted', at('bump'))).toBe(1);
    expect(m.value('egress_tls_requirement_met', { ...at('bump'), requirement: 'alpn_h2' })).toBe(0);
    expect(m.value('egress_tls_alpn_info', { ...at('bump'), alpn: 'http/1.1' })).toBe(1);
    expect(m.find('egress_tls_cert_issuer_info', at('bump'))[0]?.labels.issuer).toMatch(/Intercepting Proxy CA|Evil Inspect Corp/);
    // The registry still answered, relayed by the proxy; the checks fail with reasons of their own.
    expect(m.value('egress_http_status_code', at('bump'))).toBe(401);
    expect(reason('bump', 'http')).toEqual(['http2_downgraded']);
    // Re-signed on a path not meant to inspect: the interception is the tls check's fault,
    // whatever the chain and the requirement handshakes (the proxy's) showed.
    expect(reason('bump', 'tls')).toEqual(['tls_intercepted']);
  });

  it("names the proxy's refusals as the proxy's, never the origin's", () => {
    for (const check of ['tcp', 'tls', 'http']) {
      expect(reason('deny', check), check).toEqual(['proxy_denied']);
      expect(reason('auth', check), check).toEqual(['proxy_auth_required']);
      expect(reason('silent', check), check).toEqual(['proxy_timeout']);
    }
    for (const path of ['deny', 'auth', 'silent']) {
      // Could not test: no verdicts, no version, no downgrade.
      expect(m.find('egress_tls_requirement_met', at(path)), path).toEqual([]);
      expect(m.find('egress_http_version', at(path)), path).toEqual([]);
      expect(m.find('egress_http2_downgraded', at(path)), path).toEqual([]);
    }
  });

  it('sends the credentials of the proxy URL and never logs the password', () => {
    const authorized = proxies.auth?.connects.filter((c) => c.answer === 'tunnel') ?? [];
    expect(authorized.length).toBeGreaterThan(0);
    expect(authorized[0]?.headers['proxy-authorization']).toBe(`Basic ${Buffer.from('probe:p@ss word').toString('base64')}`);
    const logs = log.text();
    expect(logs).not.toContain('p@ss');
    expect(logs).not.toContain('p%40ss');
  });

  it('keeps the dns check on the local resolver: one series per resolver, not per path', () => {
    expect(m.find('egress_probe_success', { host, check: 'dns' }).map((s) => s.labels.resolver)).toEqual([dns.address.name]);
  });
});

describe('interception without a direct path to compare', () => {
  let dns: DnsFixture;
  let origin: RunningOrigin;
  let tunnel: RunningProxy;
  let bump: RunningProxy;
  let exporter: TestExporter;
  let m: Scrape;

  beforeAll(async () => {
    const dir = await tempDir('egress-paths-');
    // Only the origin's CA is trusted, as the lab's stand-in for the public roots: the
    // inspecting proxy's chain does not verify.
    await writeFile(join(dir, 'public.pem'), (await getPki()).rootCa);
    origin = await startOrigin('h2');
    const map = { [`cgr.dev:${origin.port}`]: origin.port, [`apk.cgr.dev:${origin.port}`]: origin.port };
    tunnel = await startProxy({ mode: 'tunnel', map });
    bump = await startProxy({ mode: 'intercept', map });
    dns = await startDnsServer({});
    exporter = await startTestExporter(
      `catalog: none
interval: 30s
timeout: 2s
dns: { servers: ["${dns.address.name}"] }
tls: { public_ca_file: public.pem }
proxies:
  - { name: tunnel, url: "${tunnel.url}" }
  - { name: bump, url: "${bump.url}" }
targets:
  - { host: cgr.dev, port: ${origin.port}, checks: [tcp, tls] }
  - { host: apk.cgr.dev, port: ${origin.port}, checks: [tcp, tls], expected_issuers: [Egress Test] }
`,
      { dir, logger: log.logger },
    );
    m = await exporter.scrape();
  }, 30_000);

  afterAll(async () => {
    await exporter.stop();
    await dns.close();
    await origin.close();
    await tunnel.close();
    await bump.close();
  });

  it('takes the verified chain of another path as the reference', () => {
    expect(m.value('egress_tls_intercepted', { host: 'cgr.dev', path: 'tunnel' })).toBe(0);
    expect(m.value('egress_tls_intercepted', { host: 'cgr.dev', path: 'bump' })).toBe(1);
    expect(m.value('egress_tls_verified', { host: 'cgr.dev', path: 'bump' })).toBe(0);
    // Through a proxy, the proxy resolves the name: no local lookup, no dns series.
    expect(m.find('egress_probe_success', { host: 'cgr.dev', check: 'dns' })).toEqual([]);
    expect(dns.queries).toEqual([]);
  });

  it('judges by the expected issuers when the config names them', () => {
    expect(m.value('egress_tls_intercepted', { host: 'apk.cgr.dev', path: 'tunnel' })).toBe(0);
    expect(m.value('egress_tls_intercepted', { host: 'apk.cgr.dev', path: 'bump' })).toBe(1);
  });
});

// The usual corporate network: no direct egress, everything through an inspecting proxy
// whose CA is in tls.ca_file (as it must be for the other checks to work).
describe('interception behind an inspecting proxy, with no direct path at all', () => {
  let origin: RunningOrigin;
  let bump: RunningProxy;
  let exporter: TestExporter;
  let m: Scrape;

  beforeAll(async () => {
    const dir = await tempDir('egress-corp-');
    const pki = await getPki();
    await writeFile(join(dir, 'public.pem'), pki.rootCa);
    await writeFile(join(dir, 'corp-ca.pem'), pki.evilCa);
    origin = await startOrigin('h2');
    const map = { [`cgr.dev:${origin.port}`]: origin.port, [`packages.wolfi.dev:${origin.port}`]: origin.port };
    // It forges h2-capable chains, so interception is the only thing wrong.
    bump = await startProxy({ mode: 'intercept', map, interceptAlpn: ['h2', 'http/1.1'] });
    exporter = await startTestExporter(
      `catalog: none
interval: 30s
timeout: 2s
tls: { ca_file: corp-ca.pem, public_ca_file: public.pem, requirements: [tls13_aes_256_gcm_sha384, tls12_ecdhe_ecdsa_aes_256_gcm_sha384, extended_master_secret, group_p256, sig_ecdsa_secp256r1_sha256, sig_rsa_pss_rsae_sha256, alpn_h2, baseline] }
proxies:
  - { name: corp, url: "${bump.url}" }
targets:
  - { host: cgr.dev, port: ${origin.port}, checks: [tcp, tls] }
  # A pull-through cache the corporate CA really signs: trust alone does not flag it.
  - { host: packages.wolfi.dev, port: ${origin.port}, checks: [tcp, tls], private_ca: true }
`,
      { dir },
    );
    m = await exporter.scrape();
  }, 30_000);

  afterAll(async () => {
    await exporter?.stop();
    await origin?.close();
    await bump?.close();
  });

  it('flags a public host whose chain verifies only through tls.ca_file', () => {
    const at = { host: 'cgr.dev', port: String(origin.port), path: 'corp' };
    expect(m.value('egress_tls_verified', at)).toBe(1);
    expect(m.value('egress_tls_trust_info', { ...at, trust: 'ca_file' })).toBe(1);
    expect(m.value('egress_tls_intercepted', at)).toBe(1);
    expect(m.value('egress_probe_failure_reason', { ...at, check: 'tls', reason: 'tls_intercepted' })).toBe(1);
  });

  it('leaves a target marked private_ca alone', () => {
    const at = { host: 'packages.wolfi.dev', port: String(origin.port), path: 'corp' };
    expect(m.value('egress_tls_trust_info', { ...at, trust: 'ca_file' })).toBe(1);
    expect(m.value('egress_tls_intercepted', at)).toBe(0);
  });
});

// squid ssl-bump to an origin it cannot reach: CONNECT 200 at once, each handshake held
// while squid tries the origin, then its own certificate and a 503 ERR_CONNECT_FAIL page.
describe('a TLS-inspecting proxy that answers for a host it never reached', () => {
  let origin: RunningOrigin;
  let bump: RunningProxy;
  let exporter: TestExporter;
  let m: Scrape;

  beforeAll(async () => {
    const dir = await tempDir('egress-slowbump-');
    await writeFile(join(dir, 'corp-ca.pem'), (await getPki()).evilCa);
    // The origin exists, but the proxy's map does not have it: the proxy cannot reach it.
    origin = await startOrigin('h2');
    bump = await startProxy({ mode: 'intercept', map: {}, bumpUnreachable: { delayMs: 700 } });
    exporter = await startTestExporter(
      `catalog: none
interval: 30s
timeout: 2s
tls: { ca_file: corp-ca.pem, requirements: [tls13_aes_256_gcm_sha384, tls12_ecdhe_ecdsa_aes_256_gcm_sha384, extended_master_secret, group_p256, sig_ecdsa_secp256r1_sha256, sig_rsa_pss_rsae_sha256, alpn_h2, baseline] }
proxies:
  - { name: corp, url: "${bump.url}" }
targets:
  - { host: cgr.dev, port: ${origin.port}, checks: [tcp, tls, http] }
`,
      { dir },
    );
    m = await exporter.scrape();
  }, 30_000);

  afterAll(async () => {
    await exporter?.stop();
    await origin?.close();
    await bump?.close();
  });

  it("says the proxy could not reach the host, on http and tls alike, instead of timing out on the proxy's handshakes", () => {
    const at = { host: 'cgr.dev', port: String(origin.port), path: 'corp' };
    expect(m.value('egress_probe_success', { ...at, check: 'tcp' })).toBe(1);
    for (const check of ['http', 'tls']) {
      expect(m.find('egress_probe_failure_reason', { ...at, check }).map((s) => s.labels.reason), check).toEqual(['proxy_bad_gateway']);
    }
    // The proxy's TLS is not the host's: no verdicts, no interception flag from it.
    expect(m.find('egress_tls_requirement_met', at)).toEqual([]);
    expect(m.value('egress_probe_duration_seconds', { ...at, check: 'tls' })).toBeLessThan(0.5);
    // The tcp check's tunnel and the http check's connection; the tls check opened none.
    expect(bump.connects).toHaveLength(2);
  });
});
