// A target is its host and port: several targets on one host, each on its own
// port, keep their own series, status-page row and results.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { refusedPort, startTlsServer } from './fixtures/tls-servers.js';
import type { RunningServer } from './fixtures/tls-servers.js';
import { startTestExporter, tempDir, writeTestCa } from './helpers/exporter.js';
import type { TestExporter } from './helpers/exporter.js';
import type { Scrape } from './helpers/scrape.js';

describe('target identity is host and port', () => {
  let dns: DnsFixture;
  let full: RunningServer;
  let noH2: RunningServer;
  let closed: number;
  let exporter: TestExporter;
  let m: Scrape;

  beforeAll(async () => {
    const dir = await tempDir('egress-identity-');
    await writeTestCa(dir);
    full = await startTlsServer('full');
    noH2 = await startTlsServer('no-h2');
    closed = await refusedPort();
    // The certificates name cgr.dev: every port of that host, as a real host would have.
    dns = await startDnsServer({ 'cgr.dev': { a: ['127.0.0.1'] } });
    exporter = await startTestExporter(
      `catalog: none
interval: 30s
timeout: 2s
dns: { servers: ["${dns.address.name}"] }
tls: { ca_file: ca.pem, requirements: [tls13_aes_256_gcm_sha384, tls12_ecdhe_ecdsa_aes_256_gcm_sha384, extended_master_secret, group_p256, sig_ecdsa_secp256r1_sha256, sig_rsa_pss_rsae_sha256, alpn_h2, baseline] }
targets:
  - { host: cgr.dev, port: ${full.port}, checks: [dns, tcp, tls] }
  - { host: cgr.dev, port: ${noH2.port}, checks: [dns, tcp, tls] }
  - { host: cgr.dev, port: ${closed}, checks: [dns, tcp, tls] }
`,
      { dir },
    );
    m = await exporter.scrape();
  }, 30_000);

  afterAll(async () => {
    await exporter?.stop();
    await dns?.close();
    await full?.close();
    await noH2?.close();
  });

  it('gives each port its own series: a port label off 443', () => {
    for (const port of [full.port, noH2.port, closed]) {
      expect(m.value('egress_target_info', { host: 'cgr.dev', port: String(port) }), String(port)).toBe(1);
    }
    expect(m.value('egress_probe_success', { host: 'cgr.dev', port: String(full.port), check: 'tcp' })).toBe(1);
    expect(m.value('egress_probe_success', { host: 'cgr.dev', port: String(noH2.port), check: 'tcp' })).toBe(1);
    expect(m.value('egress_probe_failure_reason', { host: 'cgr.dev', port: String(closed), check: 'tcp', path: 'direct', reason: 'refused' })).toBe(1);
    // Each server's own TLS verdicts, never another's.
    expect(m.value('egress_tls_requirement_met', { host: 'cgr.dev', port: String(full.port), requirement: 'alpn_h2' })).toBe(1);
    expect(m.value('egress_tls_requirement_met', { host: 'cgr.dev', port: String(noH2.port), requirement: 'alpn_h2' })).toBe(0);
    expect(m.find('egress_tls_requirement_met', { host: 'cgr.dev', port: String(closed) })).toEqual([]);
    expect(m.find('egress_target_info', { host: 'cgr.dev' })).toHaveLength(3);
    expect(m.find('egress_probe_success', { host: 'cgr.dev', check: 'tcp' })).toHaveLength(3);
  });

  it('shows each port on its own status-page row, the closed one failing', async () => {
    const html = await (await fetch(`${exporter.base}/`)).text();
    const row = (port: number) => html.split('<tr>').find((r) => r.includes(`<code>cgr.dev:${port}</code>`)) ?? '';
    expect(row(full.port)).toContain('&#10003; ok');
    expect(row(closed)).toContain('&#10007; refused');
    expect(row(closed)).not.toContain('&#10003; ok</span> <span class="path">direct');
  });
});
