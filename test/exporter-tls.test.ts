// The tls check end to end: TLS servers on loopback that each lack something,
// reached by name through the test's DNS server, judged from a scrape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TLS_REQUIREMENTS } from '../src/probes/tls/tls.js';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { startRawServer, startTlsServer } from './fixtures/tls-servers.js';
import type { RunningServer } from './fixtures/tls-servers.js';
import { startTestExporter, tempDir, writeTestCa } from './helpers/exporter.js';
import type { TestExporter } from './helpers/exporter.js';
import type { Scrape } from './helpers/scrape.js';

describe('the tls check, scraped', () => {
  let dns: DnsFixture;
  const servers: RunningServer[] = [];
  let exporter: TestExporter;
  let m: Scrape;

  beforeAll(async () => {
    const dir = await tempDir('egress-tls-');
    await writeTestCa(dir);
    const full = await startTlsServer('full');
    const noH2 = await startTlsServer('no-h2');
    const silent = await startRawServer('silent');
    servers.push(full, noH2, silent);
    dns = await startDnsServer({
      'cgr.dev': { a: ['127.0.0.1'] },
      'apk.cgr.dev': { a: ['127.0.0.1'] },
      'packages.wolfi.dev': { a: ['127.0.0.1'] },
    });
    exporter = await startTestExporter(
      `catalog: none
interval: 30s
timeout: 2s
dns: { servers: ["${dns.address.name}"] }
tls: { ca_file: ca.pem, requirements: [tls13_aes_256_gcm_sha384, tls12_ecdhe_ecdsa_aes_256_gcm_sha384, extended_master_secret, group_p256, sig_ecdsa_secp256r1_sha256, sig_rsa_pss_rsae_sha256, alpn_h2, baseline] }
targets:
  - { host: cgr.dev, port: ${full.port}, checks: [dns, tcp, tls] }
  - { host: apk.cgr.dev, port: ${noH2.port}, checks: [dns, tcp, tls] }
  - { host: packages.wolfi.dev, port: ${silent.port}, checks: [dns, tcp, tls] }
`,
      { dir },
    );
    m = await exporter.scrape();
  }, 30_000);

  afterAll(async () => {
    await exporter.stop();
    await dns.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  it('reports every requirement met, and what a default client gets, for a server that has it all', () => {
    const at = { host: 'cgr.dev', path: 'direct' };
    for (const requirement of TLS_REQUIREMENTS) expect(m.value('egress_tls_requirement_met', { ...at, requirement }), requirement).toBe(1);
    expect(m.value('egress_probe_success', { ...at, check: 'tls' })).toBe(1);
    expect(m.value('egress_tls_version_info', { ...at, version: 'TLSv1.3' })).toBe(1);
    expect(m.value('egress_tls_alpn_info', { ...at, alpn: 'h2' })).toBe(1);
    expect(m.find('egress_tls_cipher_info', at)).toHaveLength(1);
    expect(m.find('egress_tls_group_info', at)).toHaveLength(1);
    expect(m.value('egress_tls_verified', at)).toBe(1);
    expect(m.value('egress_tls_trust_info', { ...at, trust: 'ca_file' })).toBe(1);
    expect(m.value('egress_tls_intercepted', at)).toBe(0);
    expect(m.find('egress_tls_cert_issuer_info', at)[0]?.labels.issuer).toMatch(/O=Egress Test/);
    const notAfter = m.value('egress_tls_cert_not_after_timestamp_seconds', at) ?? 0;
    expect(notAfter).toBeGreaterThan(Date.now() / 1000);
    expect(m.value('egress_tls_chain_earliest_not_after_timestamp_seconds', at)).toBeLessThanOrEqual(notAfter);
    expect(m.value('egress_tls_handshake_duration_seconds', at)).toBeGreaterThan(0);
  });

  it('reports the requirements a server lacks as 0, the rest as 1', () => {
    const at = { host: 'apk.cgr.dev', path: 'direct' };
    expect(m.value('egress_tls_requirement_met', { ...at, requirement: 'alpn_h2' })).toBe(0);
    expect(m.value('egress_tls_requirement_met', { ...at, requirement: 'baseline' })).toBe(0);
    expect(m.value('egress_tls_requirement_met', { ...at, requirement: 'tls13_aes_256_gcm_sha384' })).toBe(1);
    expect(m.value('egress_probe_failure_reason', { ...at, check: 'tls', reason: 'tls_handshake_failed' })).toBe(1);
  });

  it('never reports "not met" for a path it could not test: the series are absent and the reason says why', () => {
    const at = { host: 'packages.wolfi.dev', path: 'direct' };
    expect(m.find('egress_tls_requirement_met', at)).toEqual([]);
    expect(m.value('egress_probe_success', { ...at, check: 'tls' })).toBe(0);
    expect(m.value('egress_probe_failure_reason', { ...at, check: 'tls', reason: 'timeout' })).toBe(1);
    // The TCP connect itself worked.
    expect(m.value('egress_probe_success', { ...at, check: 'tcp' })).toBe(1);
  });
});
