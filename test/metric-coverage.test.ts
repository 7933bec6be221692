// Every metric name the dashboards and the alert rules use exists in a real scrape
// of the exporter, and the README's Metrics table documents every egress_* family.
// The exporter runs in process with every check exercised: DNS (with an allowlist),
// TCP (one refused port, so the failure series exist), TLS, HTTP, a proxy path, and a
// port that must stay blocked.
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { startOrigin } from './fixtures/http-servers.js';
import type { RunningOrigin } from './fixtures/http-servers.js';
import { startProxy } from './fixtures/proxies.js';
import type { RunningProxy } from './fixtures/proxies.js';
import { BLOB_HOST_NAME, startRegistryFixture } from './fixtures/registry-server.js';
import type { RegistryFixture } from './fixtures/registry-server.js';
import { closedPort } from './fixtures/tcp-peers.js';

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
import { startTlsServer } from './fixtures/tls-servers.js';
import type { RunningServer } from './fixtures/tls-servers.js';
import { startTestExporter, tempDir, writeTestCa } from './helpers/exporter.js';
import type { TestExporter } from './helpers/exporter.js';
import { alertExpressions, dashboardQueries, exporterMetricNames, histogramFamily, metricNamesIn, REPO_ROOT } from './helpers/monitoring-queries.js';
import type { Scrape } from './helpers/scrape.js';

/** Family name -> type, from the `# TYPE` lines of an exposition. */
function typeLines(text: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/gm)) families.set(m[1] as string, m[2] as string);
  return families;
}

/** The family a name used in PromQL belongs to: `x_bucket`/`x_sum`/`x_count` of a histogram (or summary) -> `x`. */
function familyOf(name: string, families: ReadonlyMap<string, string>): string {
  if (families.has(name)) return name;
  const family = histogramFamily(name);
  const type = families.get(family);
  return type === 'histogram' || type === 'summary' ? family : name;
}

/** Which dashboard panels and alerts use `name`, for failure messages. */
function usersOf(name: string): string[] {
  const users: string[] = [];
  for (const q of dashboardQueries()) if (metricNamesIn(q.expr).includes(name)) users.push(`dashboard ${q.dashboard}: ${q.kind} "${q.title}"`);
  for (const a of alertExpressions()) if (metricNamesIn(a.expr).includes(name)) users.push(`alert ${a.alert}${a.severity ? ` (${a.severity})` : ''}`);
  return users;
}

/** The metric names of the README's Metrics table: rows that start with "| `egress_". */
function readmeMetricNames(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const names: string[] = [];
  for (const line of readme.split('\n')) {
    const m = /^\| `(egress_[a-zA-Z0-9_:]+)`/.exec(line);
    if (m) names.push(m[1] as string);
  }
  return names;
}

describe('metric coverage: dashboards, alerts and README against a real scrape', () => {
  let dir: string;
  let dns: DnsFixture;
  let origin: RunningOrigin;
  let tlsFull: RunningServer;
  let tunnel: RunningProxy;
  let registry: RegistryFixture;
  let exporter: TestExporter;
  let m: Scrape;
  let families: Map<string, string>;

  beforeAll(async () => {
    dir = await tempDir('egress-coverage-');
    await writeTestCa(dir);
    origin = await startOrigin('h2');
    tlsFull = await startTlsServer('full');
    // A registry with a JWT pull token (its expiry is a metric); the tunnel does not carry the
    // blob host, so that path's pull fails at blob_redirect (the failure series exist).
    const exp = Math.floor(Date.now() / 1000) + 30 * 86400;
    const token = `${b64url({ alg: 'ES256' })}.${b64url({ sub: 'ci', exp })}.c2lnbmF0dXJl`;
    registry = await startRegistryFixture({ users: { ci: token } });
    process.env.EGRESS_REGISTRY_USERNAME = 'ci';
    process.env.EGRESS_REGISTRY_PASSWORD = token;
    // Closed on both of packages.wolfi.dev's addresses.
    const refused = await closedPort('127.0.0.1', '127.0.1.1');
    tunnel = await startProxy({
      mode: 'tunnel',
      map: { [`cgr.dev:${origin.port}`]: origin.port, [`apk.cgr.dev:${tlsFull.port}`]: tlsFull.port, [`cgr.dev:${registry.registryPort}`]: registry.registryPort },
      denySuffixes: ['.registry.test'],
    });
    dns = await startDnsServer({
      // A CNAME, so the chain-length gauge has something to say.
      'cgr.dev': { cname: 'cgr.dev.edge.test', ttl: 600 },
      'cgr.dev.edge.test': { a: ['127.0.0.1'], ttl: 600 },
      'apk.cgr.dev': { a: ['127.0.0.1'], ttl: 60 },
      // One allowed address, one outside the allowlist.
      'packages.wolfi.dev': { a: ['127.0.0.1', '127.0.1.1'], ttl: 60 },
      [BLOB_HOST_NAME]: { a: ['127.0.0.1'], ttl: 60 },
    });
    exporter = await startTestExporter(
      `catalog: none
interval: 30s
# Every opt-in histogram too, so the README's table is checked against all of them.
metrics: { histograms: [probe, dns_lookup, tcp_connect, tls_handshake, http, round] }
timeout: 2s
dns:
  servers: ["${dns.address.name}"]
  allowlist_cidrs: [127.0.0.0/24]
  firewall_refresh_interval: 5m
tls: { ca_file: ca.pem, requirements: [tls13_aes_256_gcm_sha384, tls12_ecdhe_ecdsa_aes_256_gcm_sha384, extended_master_secret, group_p256, sig_ecdsa_secp256r1_sha256, sig_rsa_pss_rsae_sha256, alpn_h2, baseline] }
compare_direct: true
proxies:
  - { name: tunnel, url: "${tunnel.url}" }
targets:
  - host: cgr.dev
    port: ${origin.port}
    labels: { team: platform }
    http: { path: /v2/, expect_status: [401], expect_headers: { docker-distribution-api-version: registry/2.0 } }
  - { host: apk.cgr.dev, port: ${tlsFull.port}, checks: [dns, tcp, tls] }
  - { host: packages.wolfi.dev, port: ${refused}, checks: [dns, tcp] }
  # Must stay blocked, and does (refused directly, 502 from the tunnel): its verdict is a metric.
  - { host: apk.cgr.dev, port: ${refused}, checks: [dns, tcp], expect: blocked }
registries:
  - { host: cgr.dev, port: ${registry.registryPort}, credentials: env }
# A named list of the address feed, so its series exist.
feed:
  lists: [{ name: all }]
`,
      { dir },
    );
    m = await exporter.scrape();
    families = typeLines(m.text);
  }, 30_000);

  afterAll(async () => {
    delete process.env.EGRESS_REGISTRY_USERNAME;
    delete process.env.EGRESS_REGISTRY_PASSWORD;
    await exporter?.stop();
    await registry?.close();
    await dns?.close();
    await origin?.close();
    await tlsFull?.close();
    await tunnel?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exercised every check on every path (else the coverage below proves little)', () => {
    for (const path of ['direct', 'tunnel']) {
      for (const check of ['tcp', 'tls', 'http']) expect(m.value('egress_probe_success', { host: 'cgr.dev', check, path }), `${check} over ${path}`).toBe(1);
      expect(m.value('egress_probe_success', { host: 'apk.cgr.dev', check: 'tls', path }), `apk.cgr.dev tls over ${path}`).toBe(1);
    }
    expect(m.value('egress_probe_success', { host: 'cgr.dev', check: 'dns', resolver: dns.address.name })).toBe(1);
    expect(m.value('egress_probe_failure_reason', { host: 'packages.wolfi.dev', check: 'tcp', path: 'direct', reason: 'refused' })).toBe(1);
    expect(m.value('egress_dns_addresses_outside_allowlist', { host: 'packages.wolfi.dev', family: 'v4', resolver: dns.address.name })).toBe(1);
    expect(m.value('egress_proxy_connect_duration_seconds_count', { path: 'tunnel' })).toBeGreaterThanOrEqual(1);
    expect(m.find('egress_blocked_verdict', { host: 'apk.cgr.dev', path: 'direct', verdict: 'blocked' }).map((s) => s.value)).toEqual([1]);
  });

  it('has a # TYPE line and samples for every metric name the dashboards and alerts use', () => {
    const used = exporterMetricNames();
    expect(used.length).toBeGreaterThan(20);
    const missing: string[] = [];
    const empty: string[] = [];
    for (const name of used) {
      const family = familyOf(name, families);
      if (!families.has(family)) {
        missing.push(`${name}  (used by ${usersOf(name).join('; ')})`);
        continue;
      }
      // The series the query selects: the name itself, or a histogram's _bucket/_sum/_count.
      if (m.find(name).length === 0) empty.push(`${name}  (family ${family}, used by ${usersOf(name).join('; ')})`);
    }
    expect(missing, `metric names used by dashboards/alerts with no # TYPE line in the scrape:\n${missing.join('\n')}`).toEqual([]);
    expect(empty, `metric names used by dashboards/alerts with no sample in the scrape:\n${empty.join('\n')}`).toEqual([]);
  });

  it("lists every egress_* family of the scrape in the README's Metrics table, and nothing the exporter does not have", () => {
    const documented = readmeMetricNames();
    const scraped = [...families.keys()].filter((name) => name.startsWith('egress_')).sort();
    expect(scraped.length).toBeGreaterThan(30);
    const undocumented = scraped.filter((name) => !documented.includes(name));
    const stale = documented.filter((name) => !families.has(name));
    expect(undocumented, `egress_* families in the scrape missing from README.md's Metrics table:\n${undocumented.join('\n')}`).toEqual([]);
    expect(stale, `README.md's Metrics table lists families the scrape does not have:\n${stale.join('\n')}`).toEqual([]);
  });
});
