// The daemon end to end, in process: config -> scheduler -> probes against a
// DNS server and TCP peers on loopback -> values read from a scrape of /metrics.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { getCatalog } from '../src/catalog/index.js';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { closedPort, startBlackhole, startListener } from './fixtures/tcp-peers.js';
import type { Peer } from './fixtures/tcp-peers.js';
import { memoryLogger, startTestExporter } from './helpers/exporter.js';
import type { MemoryLogger, TestExporter } from './helpers/exporter.js';
import { scrape, scrapeUntil } from './helpers/scrape.js';

const CATALOG = getCatalog('chainguard').hosts;

describe('the exporter on the Chainguard catalog, against a local DNS server', () => {
  let dns: DnsFixture;
  let exporter: TestExporter;
  let base: string;
  let log: MemoryLogger;
  let refusedPort: number;

  beforeAll(async () => {
    dns = await startDnsServer();
    CATALOG.forEach((entry, i) => {
      dns.set(entry.host, {
        ttl: 60,
        a: [`127.0.10.${i + 1}`, `127.0.11.${i + 1}`],
        aaaa: entry.families.includes('v6') ? ['::1'] : undefined,
      });
    });
    // A CNAME chain in front of the registry, as the real one has.
    dns.set('cgr.dev', { cname: 'cgr.dev.edge.test', ttl: 60 });
    dns.set('cgr.dev.edge.test', { a: ['127.0.10.1'], ttl: 60 });
    // A host of the test's own, two addresses, on a port the test made sure is closed on both.
    refusedPort = await closedPort('127.0.10.200', '127.0.11.200');
    dns.set('refusing.test', { ttl: 60, a: ['127.0.10.200', '127.0.11.200'] });
    log = memoryLogger();
    // The catalog hosts run the dns check only: their port is 443, which this test does
    // not own (a developer's machine may serve it); the tcp check runs on refusing.test.
    const config = parseConfig(
      `dns:\n  servers: ["${dns.address.name}"]\n  allowlist_cidrs: [127.0.10.0/24]\n  firewall_refresh_interval: 5m\ninterval: 1s\ntimeout: 800ms\ntargets:\n${CATALOG.map((entry) => `  - { host: ${entry.host}, checks: [dns] }`).join('\n')}\n  - { host: refusing.test, port: ${refusedPort}, checks: [dns, tcp] }\n`,
      'test.yml',
    );
    exporter = await startTestExporter(config, { logger: log.logger });
    base = exporter.base;
  });
  afterAll(async () => {
    await exporter.stop();
    await dns.close();
  });

  it('probes all 13 catalog hosts and reports DNS success with the TTLs the server sent', async () => {
    const m = await scrape(base);
    const resolver = dns.address.name;
    expect(m.labelValues('egress_probe_success', 'host', { check: 'dns' })).toEqual([...CATALOG.map((h) => h.host), 'refusing.test'].sort());
    for (const entry of CATALOG) {
      expect(m.value('egress_probe_success', { host: entry.host, check: 'dns', resolver }), entry.host).toBe(1);
      expect(m.value('egress_dns_ttl_seconds', { host: entry.host, type: 'A', resolver })).toBe(60);
      expect(m.value('egress_dns_ttl_max_seconds', { host: entry.host, type: 'A', resolver })).toBe(60);
      expect(m.value('egress_dns_ttl_below_firewall_refresh', { host: entry.host, type: 'A', resolver })).toBe(1);
      expect(m.find('egress_probe_failure_reason', { host: entry.host, check: 'dns' })).toEqual([]);
    }
    expect(m.value('egress_dns_addresses', { host: 'console.chainguard.dev', family: 'v4', resolver })).toBe(2);
    expect(m.value('egress_dns_addresses', { host: 'packages.wolfi.dev', family: 'v6', resolver })).toBe(1);
    expect(m.value('egress_dns_ttl_seconds', { host: 'packages.wolfi.dev', type: 'AAAA', resolver })).toBe(60);
    expect(m.value('egress_dns_cname_chain_length', { host: 'cgr.dev', resolver })).toBe(1);
    // 127.0.10.x is allowed, 127.0.11.x is not.
    expect(m.value('egress_dns_addresses_outside_allowlist', { host: 'console.chainguard.dev', family: 'v4', resolver })).toBe(1);
    expect(m.value('egress_dns_addresses_outside_allowlist', { host: 'cgr.dev', family: 'v4', resolver })).toBe(0);
    expect(m.value('egress_dns_firewall_refresh_interval_seconds')).toBe(300);
    expect(m.value('egress_target_info', { host: 'cgr.dev', port: '443', source: 'chainguard', purpose: 'Main container image registry' })).toBe(1);
  });

  it('tries every address and reports the refusals as data', async () => {
    const m = await scrape(base);
    const host = 'refusing.test';
    expect(m.value('egress_probe_success', { host, check: 'tcp', path: 'direct' })).toBe(0);
    expect(m.value('egress_probe_failure_reason', { host, check: 'tcp', path: 'direct', reason: 'refused' })).toBe(1);
    expect(m.value('egress_tcp_addresses_probed', { host, family: 'v4', path: 'direct' })).toBe(2);
    expect(m.value('egress_tcp_addresses_reachable', { host, family: 'v4', path: 'direct' })).toBe(0);
    expect(m.value('egress_tcp_connect_failures_total', { host, family: 'v4', path: 'direct', reason: 'refused' })).toBeGreaterThanOrEqual(2);
  });

  it('counts a TTL change and an address-set change, and logs state changes once', async () => {
    const resolver = dns.address.name;
    dns.set('dl.enforce.dev', { ttl: 300, a: ['127.0.10.99'] });
    const m = await scrapeUntil(
      base,
      (s) => s.value('egress_dns_ttl_seconds', { host: 'dl.enforce.dev', type: 'A', resolver }) === 300 && (s.value('egress_exporter_rounds_total', { host: 'enforce.dev' }) ?? 0) >= 2,
    );
    expect(m.value('egress_dns_ttl_max_seconds', { host: 'dl.enforce.dev', type: 'A', resolver })).toBe(300);
    expect(m.value('egress_dns_ttl_changes_total', { host: 'dl.enforce.dev', type: 'A', resolver })).toBe(1);
    expect(m.value('egress_dns_address_changes_total', { host: 'dl.enforce.dev', family: 'v4', resolver })).toBe(1);
    expect(m.value('egress_dns_addresses', { host: 'dl.enforce.dev', family: 'v4', resolver })).toBe(1);
    expect(m.value('egress_dns_ttl_below_firewall_refresh', { host: 'dl.enforce.dev', type: 'A', resolver })).toBe(0);
    const changed = m.value('egress_dns_address_set_changed_timestamp_seconds', { host: 'dl.enforce.dev', family: 'v4', resolver }) ?? 0;
    expect(Math.abs(changed - Date.now() / 1000)).toBeLessThan(10);
    expect(m.value('egress_dns_ttl_changes_total', { host: 'cgr.dev', type: 'A', resolver })).toBe(0);

    // Several rounds ran; each host's dns check changed state once (unknown -> up).
    const changes = log.lines().filter((l) => l.msg === 'check state changed' && l.check === 'dns' && l.host === 'enforce.dev');
    expect(changes).toHaveLength(1);
    expect(m.value('egress_exporter_rounds_total', { host: 'enforce.dev' })).toBeGreaterThanOrEqual(2);
    expect(m.value('egress_probe_failures_total', { host: 'enforce.dev', check: 'dns', resolver })).toBe(0);
  });

  it('classifies DNS failures as they happen', async () => {
    const resolver = dns.address.name;
    dns.set('enforce.dev', { rcode: 'NXDOMAIN' });
    dns.set('issuer.enforce.dev', { rcode: 'SERVFAIL' });
    dns.set('apk.cgr.dev', { a: ['0.0.0.0'], ttl: 60 });
    dns.set('virtualapk.cgr.dev', { silent: true });
    const reason = (host: string, r: string) => ({ host, check: 'dns', resolver, reason: r });
    const m = await scrapeUntil(
      base,
      (s) =>
        s.value('egress_probe_failure_reason', reason('enforce.dev', 'nxdomain')) === 1 &&
        s.value('egress_probe_failure_reason', reason('issuer.enforce.dev', 'servfail')) === 1 &&
        s.value('egress_probe_failure_reason', reason('apk.cgr.dev', 'sinkholed')) === 1 &&
        s.value('egress_probe_failure_reason', reason('virtualapk.cgr.dev', 'timeout')) === 1,
    );
    for (const host of ['enforce.dev', 'issuer.enforce.dev', 'apk.cgr.dev', 'virtualapk.cgr.dev']) {
      expect(m.value('egress_probe_success', { host, check: 'dns', resolver })).toBe(0);
      expect(m.find('egress_probe_failure_reason', { host, check: 'dns' })).toHaveLength(1);
    }
    // The silent server is cut off at the check deadline (800 ms), not Node's ~3 s of retries.
    const slow = m.value('egress_probe_duration_seconds', { host: 'virtualapk.cgr.dev', check: 'dns', resolver }) ?? 0;
    expect(slow).toBeGreaterThan(0.5);
    expect(slow).toBeLessThan(1.5);

    // Healthy again: the reason series disappears.
    dns.set('enforce.dev', { a: ['127.0.10.5'], ttl: 60 });
    const healed = await scrapeUntil(base, (s) => s.value('egress_probe_success', { host: 'enforce.dev', check: 'dns', resolver }) === 1);
    expect(healed.find('egress_probe_failure_reason', { host: 'enforce.dev', check: 'dns' })).toEqual([]);
  });

  it('probes a configured target on demand, and explains it with debug=true', async () => {
    const metrics = await fetch(`${base}/probe?target=cgr.dev`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toContain(`egress_probe_success{host="cgr.dev",check="dns",resolver="${dns.address.name}"} 1`);
    expect(text).not.toContain('host="enforce.dev"');

    const debug = await (await fetch(`${base}/probe?target=cgr.dev&debug=true`)).text();
    expect(debug).toContain('egress-exporter probe of cgr.dev:443');
    expect(debug).toContain(`resolver ${dns.address.name}: ok`);
    expect(debug).toMatch(/A {4}ttl 60 {2}127\.0\.10\.1/);
    expect(debug).toContain('CNAME chain: cgr.dev -> cgr.dev.edge.test');
    expect(debug).toContain('PATH direct: straight to the host');

    const refusing = await (await fetch(`${base}/probe?target=refusing.test:${refusedPort}&debug=true`)).text();
    expect(refusing).toMatch(/tcp: FAILED \(refused\)/);
    expect(refusing).toMatch(/127\.0\.10\.200 +FAILED refused/);
    expect(refusing).toMatch(/127\.0\.11\.200 +FAILED refused/);
  });

  it('refuses to probe a host outside the config (no SSRF by default)', async () => {
    const outside = await fetch(`${base}/probe?target=internal.example:8080`);
    expect(outside.status).toBe(400);
    expect(await outside.text()).toContain('target "internal.example:8080" is not configured; probing hosts outside the config needs web.allow_any_target: true');
    const missing = await fetch(`${base}/probe`);
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain('missing ?target=HOST');
    const garbage = await fetch(`${base}/probe?target=${encodeURIComponent('http://x/y')}`);
    expect(garbage.status).toBe(400);
  });

  it('serves health, readiness and a landing page that links them', async () => {
    expect((await fetch(`${base}/-/healthy`)).status).toBe(200);
    expect((await fetch(`${base}/-/ready`)).status).toBe(200);
    const page = await (await fetch(`${base}/`)).text();
    for (const link of ['/metrics', '/-/healthy', '/-/ready']) expect(page).toContain(`href="${link}"`);
    expect(page).toContain('cgr.dev');
    const m = await scrape(base);
    expect(m.find('egress_exporter_build_info')).toHaveLength(1);
    expect(m.find('egress_exporter_build_info')[0]?.labels.nodejs).toBe(process.version);
    expect(m.find('nodejs_eventloop_lag_p99_seconds')).toHaveLength(1);
    expect(m.find('process_resident_memory_bytes')).toHaveLength(1);
  });
});

describe('the exporter with config targets on loopback ports', () => {
  let dns: DnsFixture;
  let listener: Peer;
  let blackhole: Peer;
  let exporter: TestExporter | undefined;
  beforeAll(async () => {
    dns = await startDnsServer({
      'open.test': { a: ['127.0.0.1'], ttl: 30 },
      'stale.test': { a: ['127.0.0.1', '127.0.0.2'], ttl: 30 },
      'dark.test': { a: ['127.0.0.1'], ttl: 30 },
      'closed.test': { a: ['127.0.0.1'], ttl: 30 },
    });
    // stale.test's second address, 127.0.0.2, must refuse on the listener's port: the port is one free on both.
    listener = await startListener('127.0.0.1', await closedPort('127.0.0.1', '127.0.0.2'));
    blackhole = await startBlackhole();
  });
  afterEach(async () => {
    await exporter?.stop();
    exporter = undefined;
  });
  afterAll(async () => {
    await dns.close();
    await listener.close();
    await blackhole.close();
  });

  it('measures connects, counts reachable addresses and names the reason', async () => {
    const closed = await closedPort();
    const yaml = `catalog: none
interval: 1s
timeout: 500ms
dns:
  servers: ["${dns.address.name}"]
targets:
  - { host: open.test, port: ${listener.port}, checks: [dns, tcp], labels: { team: platform } }
  - { host: stale.test, port: ${listener.port}, checks: [tcp] }
  - { host: dark.test, port: ${blackhole.port}, checks: [tcp, tls, http] }
  - { host: closed.test, port: ${closed}, checks: [tcp] }
  - { host: 127.0.0.1, port: ${listener.port}, checks: [dns, tcp] }
`;
    exporter = await startTestExporter(parseConfig(yaml, 'test.yml'), { logger: memoryLogger().logger });
    const m = await exporter.scrape();
    const tcp = (host: string) => ({ host, check: 'tcp', path: 'direct' });
    const fam = (host: string) => ({ host, family: 'v4', path: 'direct' });

    expect(m.value('egress_probe_success', tcp('open.test'))).toBe(1);
    expect(m.value('egress_tcp_addresses_reachable', fam('open.test'))).toBe(1);
    expect(m.value('egress_tcp_connect_duration_seconds', fam('open.test'))).toBeGreaterThan(0);
    expect(m.value('egress_target_label_info', { host: 'open.test', name: 'team', value: 'platform' })).toBe(1);

    // One address of two is stale: the check passes, the counts tell.
    expect(m.value('egress_probe_success', tcp('stale.test'))).toBe(1);
    expect(m.value('egress_tcp_addresses_probed', fam('stale.test'))).toBe(2);
    expect(m.value('egress_tcp_addresses_reachable', fam('stale.test'))).toBe(1);
    // The dns check is not reported for a target without it.
    expect(m.find('egress_probe_success', { host: 'stale.test', check: 'dns' })).toEqual([]);

    expect(m.value('egress_probe_failure_reason', { ...tcp('dark.test'), reason: 'timeout' })).toBe(1);
    // Behind a path that reached nothing, tls and http are not tried: could not test, for the same
    // reason, at once rather than after their own deadlines, and no verdict is invented.
    for (const check of ['tls', 'http']) {
      expect(m.value('egress_probe_failure_reason', { host: 'dark.test', check, path: 'direct', reason: 'timeout' }), check).toBe(1);
      expect(m.value('egress_probe_duration_seconds', { host: 'dark.test', check, path: 'direct' }), check).toBe(0);
    }
    expect(m.find('egress_tls_requirement_met', { host: 'dark.test' })).toEqual([]);
    expect(m.value('egress_probe_failure_reason', { ...tcp('closed.test'), reason: 'refused' })).toBe(1);

    // No dns.firewall_refresh_interval: no IP-based rules, so no TTL is too short (and no series spent on it).
    expect(m.find('egress_dns_ttl_below_firewall_refresh', { host: 'open.test', type: 'A' })).toEqual([]);
    expect(m.value('egress_dns_firewall_refresh_interval_seconds')).toBe(0);
    expect(m.value('egress_dns_ttl_seconds', { host: 'open.test', type: 'A' })).toBe(30);

    // An IP literal needs no lookup.
    expect(m.value('egress_probe_success', tcp('127.0.0.1'))).toBe(1);
    expect(m.find('egress_probe_success', { host: '127.0.0.1', check: 'dns' })).toEqual([]);
  });

  it('shows an IPv6 target as [address]:port, on the status page and in the transcript', async () => {
    const v6 = await startListener('::1');
    try {
      exporter = await startTestExporter(parseConfig(`catalog: none\ninterval: 30s\ntimeout: 1s\ntargets:\n  - { host: "::1", port: ${v6.port}, checks: [tcp] }\n`, 'test.yml'));
      const page = await (await fetch(`${exporter.base}/`)).text();
      expect(page).toContain(`<code>[::1]:${v6.port}</code>`);
      const debug = await (await fetch(`${exporter.base}/probe?target=${encodeURIComponent(`[::1]:${v6.port}`)}&debug=true`)).text();
      expect(debug).toContain(`egress-exporter probe of [::1]:${v6.port} at`);
      expect(debug).toMatch(/tcp: ok/);
    } finally {
      await v6.close();
    }
  });

  it('takes the sinkhole ranges from dns.sinkhole_cidrs when set, for every resolver', async () => {
    const yaml = `catalog: none
interval: 1s
timeout: 500ms
dns:
  servers: ["${dns.address.name}"]
  sinkhole_cidrs: [127.0.0.2/32]
targets:
  - { host: open.test, checks: [dns] }
  - { host: stale.test, checks: [dns] }
`;
    exporter = await startTestExporter(parseConfig(yaml, 'test.yml'), { logger: memoryLogger().logger });
    const m = await exporter.scrape();
    expect(m.value('egress_probe_success', { host: 'open.test', check: 'dns' })).toBe(1);
    expect(m.value('egress_probe_failure_reason', { host: 'stale.test', check: 'dns', reason: 'sinkholed' })).toBe(1);
  });

  it("answers /probe within Prometheus's scrape timeout, reporting the blackholed host as failed", async () => {
    const yaml = `catalog: none
interval: 30s
timeout: 10s
targets:
  - { host: 127.0.0.1, port: ${blackhole.port}, checks: [tcp, tls, http] }
`;
    exporter = await startTestExporter(parseConfig(yaml, 'test.yml'), { waitForFirstRound: false });
    const started = Date.now();
    const response = await fetch(`${exporter.base}/probe?target=127.0.0.1:${blackhole.port}`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '2' } });
    const body = await response.text();
    // The scrape's 2 s, not the 10 s check timeout: 2 s minus the 0.5 s margin.
    expect(Date.now() - started).toBeLessThan(2000);
    expect(response.status).toBe(200);
    const labels = `host="127.0.0.1",port="${blackhole.port}",check="tcp",path="direct"`;
    expect(body).toContain(`egress_probe_success{${labels}} 0`);
    expect(body).toContain(`egress_probe_failure_reason{${labels},reason="timeout"} 1`);
  });

  it('refuses a scrape timeout header that is not a number of seconds', async () => {
    exporter = await startTestExporter(parseConfig(`catalog: none\ntargets:\n  - { host: 127.0.0.1, port: ${listener.port}, checks: [tcp] }\n`, 'test.yml'));
    const response = await fetch(`${exporter.base}/probe?target=127.0.0.1:${listener.port}`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': 'ten' } });
    expect(response.status).toBe(400);
    expect(await response.text()).toBe('X-Prometheus-Scrape-Timeout-Seconds: expected a number of seconds such as 10 or 2.5, got "ten"\n');
  });

  it('stops within its budget while checks hang', async () => {
    dns.silentAll = true;
    const yaml = `catalog: none
interval: 1s
timeout: 900ms
dns:
  servers: ["${dns.address.name}"]
targets:
  - { host: dark.test, port: ${blackhole.port} }
`;
    exporter = await startTestExporter(parseConfig(yaml, 'test.yml'), { logger: memoryLogger().logger, waitForFirstRound: false });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await exporter.stop();
    exporter = undefined;
    expect(Date.now() - started).toBeLessThan(1000);
    dns.silentAll = false;
  });
});
