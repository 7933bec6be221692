// What a scrape costs and how it is written: the series one host-path costs by
// default (the README's budget), opt-in histograms, gzip, the stall metric, and
// an exposition that promtool accepts.
import { spawnSync } from 'node:child_process';
import { get } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { startOrigin } from './fixtures/http-servers.js';
import type { RunningOrigin } from './fixtures/http-servers.js';
import { startTestExporter, tempDir, writeTestCa } from './helpers/exporter.js';
import type { TestExporter } from './helpers/exporter.js';
import { PROMTOOL_MISSING } from './helpers/monitoring-queries.js';
import { parseExposition } from './helpers/scrape.js';
import type { Scrape } from './helpers/scrape.js';

/** The README's budget: series one IPv4 host costs on one path with every check and one resolver. */
const BUDGET_PER_HOST_PATH = 60;

function promtoolCheckMetrics(text: string): { code: number; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(PROMTOOL_MISSING);
  return { code: run.status ?? 1, output: `${run.stdout}${run.stderr}` };
}

describe('series budget and exposition', () => {
  let dns: DnsFixture;
  let origin: RunningOrigin;
  let plain: TestExporter;
  let detailed: TestExporter;
  let m: Scrape;

  beforeAll(async () => {
    const dir = await tempDir('egress-budget-');
    await writeTestCa(dir);
    origin = await startOrigin('h2');
    dns = await startDnsServer({ 'cgr.dev': { a: ['127.0.0.1'], ttl: 60 } });
    const yaml = (extra: string) => `catalog: none
interval: 30s
timeout: 3s
dns: { servers: ["${dns.address.name}"] }
tls: { ca_file: ca.pem, requirements: [tls13_aes_256_gcm_sha384, tls12_ecdhe_ecdsa_aes_256_gcm_sha384, extended_master_secret, group_p256, sig_ecdsa_secp256r1_sha256, sig_rsa_pss_rsae_sha256, alpn_h2, baseline] }
${extra}
targets:
  - { host: cgr.dev, port: ${origin.port}, labels: { team: platform } }
`;
    plain = await startTestExporter(yaml(''), { dir });
    const other = await tempDir('egress-budget-');
    await writeTestCa(other);
    detailed = await startTestExporter(yaml('metrics: { histograms: [tcp_connect, http], buckets: [0.001, 0.01, 0.1, 1] }'), { dir: other });
    m = await plain.scrape();
  }, 30_000);

  afterAll(async () => {
    await plain?.stop();
    await detailed?.stop();
    await dns?.close();
    await origin?.close();
  });

  it(`costs at most ${BUDGET_PER_HOST_PATH} series per host-path by default, every check passing`, () => {
    for (const check of ['dns', 'tcp', 'tls', 'http']) expect(m.value('egress_probe_success', { host: 'cgr.dev', check }), check).toBe(1);
    const mine = m.samples.filter((s) => s.labels.host === 'cgr.dev');
    // The README's count, 56 (55 and egress_dns_resolution_required), and one more for the target's label (team).
    expect(mine.length).toBe(56 + 1);
    expect(mine.length).toBeLessThanOrEqual(BUDGET_PER_HOST_PATH);
    // Latencies are gauges of the latest run by default: no histogram of any host.
    expect(mine.filter((s) => s.name.endsWith('_bucket'))).toEqual([]);
    expect(m.value('egress_tcp_connect_duration_seconds', { host: 'cgr.dev', family: 'v4', path: 'direct' })).toBeGreaterThan(0);
  });

  it('adds the histograms metrics.histograms asks for, with its buckets', async () => {
    const d = await detailed.scrape();
    const at = { host: 'cgr.dev', family: 'v4', path: 'direct' };
    expect(d.labelValues('egress_tcp_connect_duration_histogram_seconds_bucket', 'le', at)).toEqual(['+Inf', '0.001', '0.01', '0.1', '1']);
    expect(d.value('egress_tcp_connect_duration_histogram_seconds_count', at)).toBeGreaterThanOrEqual(1);
    expect(d.value('egress_http_duration_histogram_seconds_count', { host: 'cgr.dev', path: 'direct', phase: 'tls' })).toBeGreaterThanOrEqual(1);
    expect(d.find('egress_tls_handshake_duration_histogram_seconds_count')).toEqual([]);
    // Each histogram costs (buckets + 3) series per series of its gauge.
    const extra = d.samples.filter((s) => s.labels.host === 'cgr.dev').length - m.samples.filter((s) => s.labels.host === 'cgr.dev').length;
    const httpPhases = d.find('egress_http_duration_seconds', { host: 'cgr.dev' }).length;
    expect(extra).toBe((4 + 3) * (1 + httpPhases));
  });

  it('is valid exposition by promtool, and names the stall of the probing thread', () => {
    const lint = promtoolCheckMetrics(m.text);
    // Only prom-client's own process metrics draw promtool's style remarks.
    const remarks = lint.output.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('nodejs_'));
    expect(remarks).toEqual([]);
    expect(m.find('egress_exporter_event_loop_stall_seconds_count')[0]?.value ?? 0).toBeGreaterThan(0);
    expect(m.value('egress_exporter_event_loop_stall_max_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('gzips /metrics for a scraper that accepts it, with the same series', async () => {
    const gzipped = await rawGet(`${plain.base}/metrics`, { 'Accept-Encoding': 'gzip' });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers.vary).toMatch(/Accept-Encoding/);
    const identity = await rawGet(`${plain.base}/metrics`, {});
    expect(identity.headers['content-encoding']).toBeUndefined();
    const text = gunzipSync(gzipped.body).toString('utf8');
    expect(gzipped.body.length).toBeLessThan(identity.body.length / 3);
    const names = (t: string) => new Set(parseExposition(t).filter((s) => s.name.startsWith('egress_probe')).map((s) => `${s.name}${JSON.stringify(s.labels)}`));
    expect(names(text)).toEqual(names(identity.body.toString('utf8')));
  });
});

/** A GET whose body comes back as sent (fetch would decode gzip). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}
