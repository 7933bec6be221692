// The alert truth table: for each scenario, an exporter (or two) probes a real lab on
// loopback (origins, a DNS server, real proxies from Debian: mitmproxy, tinyproxy, squid
// with basic auth), its /metrics is scraped as Prometheus would, and the shipped rules
// run over exactly those series (promtool, every `for:` satisfied). The set of alerts that
// fire must be exactly the row's: one page per fault, naming its cause (host, proxy,
// resolver), none for a healthy target or path. A new fault is one row.
//
// Two replicas of one config are two exporters scraped as two instances of one job; two
// zones are two exporters whose series carry the zone label Prometheus would add.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TLS_REQUIREMENTS } from '../src/model/tls-requirements.js';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { startOrigin } from './fixtures/http-servers.js';
import type { RunningOrigin } from './fixtures/http-servers.js';
import { getPki } from './fixtures/pki.js';
import { UNRESOLVABLE_HOST, startMitmproxy, startSquid, startTinyproxy } from './fixtures/real-proxies.js';
import type { RealProxy, RunningMitmproxy } from './fixtures/real-proxies.js';
import { refusedPort } from './fixtures/tls-servers.js';
import { startTestExporter, tempDir } from './helpers/exporter.js';
import { alertExpressions, alertsOnSeriesTest, histogramFamily, metricNamesIn, runPromtool } from './helpers/monitoring-queries.js';
import type { SeriesSample } from './helpers/monitoring-queries.js';

const CREDENTIALS = { user: 'alice', pass: 'secret-pw' };
const REGISTRY_ANSWER = { path: '/v2/', expect_status: [401], expect_headers: { 'docker-distribution-api-version': 'registry/2.0' } };

interface Lab {
  dns: DnsFixture;
  /** A resolver that knows none of the lab's names (a proxy-only network: clients never resolve). */
  emptyDns: DnsFixture;
  /** TLS 1.3/1.2, h2, ECDSA and RSA leaves for the lab's names. */
  origin: RunningOrigin;
  /** The same with an RSA leaf only: an internal service that meets no ECDSA requirement. */
  rsaOrigin: RunningOrigin;
  closedPort: number;
  mitm: RunningMitmproxy;
  mitmHttp1: RunningMitmproxy;
  tinyproxy: RealProxy;
  squidAuth: RealProxy;
  /** squid bumping every tunnel with its own CA: an interceptor that speaks HTTP/1.1 only. */
  squidBump: RealProxy & { bumpCa: string };
  /** The lab's "public" CA (tls.public_ca_file): its chains are the hosts' own, not interception. */
  publicCa: string;
}

type Page = { alert: string; labels: Record<string, string> };

interface Row {
  name: string;
  /** The exporter's config (catalog none, the lab's public CA and DNS are added). */
  config: (lab: Lab) => Record<string, unknown>;
  /** Labels Prometheus adds to each exporter's series: one exporter per entry. Default one, job egress. */
  scrapes?: ReadonlyArray<Record<string, string>>;
  expect: (lab: Lab) => Page[];
}

/** A config target judged as the vendor's hosts are: every requirement, the registry's answer. */
const vendorTarget = (host: string, port: number, extra: Record<string, unknown> = {}) => ({ host, port, http: REGISTRY_ANSWER, ...extra });

const ROWS: Row[] = [
  {
    name: 'a healthy host on a healthy direct path: nothing',
    config: (lab) => ({ proxy: 'none', targets: [vendorTarget('cgr.dev', lab.origin.port)] }),
    expect: () => [],
  },
  {
    name: 'behind an intercepting proxy marked expect_interception (mitmproxy, RSA CA): nothing, though its ECDSA offers are closed',
    config: (lab) => ({
      proxies: [{ name: 'mitm', url: lab.mitm.url, expect_interception: true }],
      targets: [vendorTarget('cgr.dev', lab.origin.port), vendorTarget('apk.cgr.dev', lab.origin.port)],
    }),
    expect: () => [],
  },
  {
    name: 'behind an intercepting proxy not marked: one EgressTLSIntercepted for the path, not one a host',
    config: (lab) => ({
      proxies: [{ name: 'mitm', url: lab.mitm.url, expect_interception: false }],
      targets: [vendorTarget('cgr.dev', lab.origin.port), vendorTarget('apk.cgr.dev', lab.origin.port)],
    }),
    expect: () => [{ alert: 'EgressTLSIntercepted', labels: { path: 'mitm', severity: 'critical' } }],
  },
  {
    name: 'an expected interceptor that downgrades HTTP/2 (mitmproxy http2=false): one EgressHTTP2Downgraded for the path',
    config: (lab) => ({
      // The direct path shows the hosts speak h2.
      compare_direct: true,
      proxies: [{ name: 'mitm-http1', url: lab.mitmHttp1.url, expect_interception: true }],
      targets: [vendorTarget('cgr.dev', lab.origin.port), vendorTarget('apk.cgr.dev', lab.origin.port)],
    }),
    expect: () => [{ alert: 'EgressHTTP2Downgraded', labels: { path: 'mitm-http1', severity: 'critical' } }],
  },
  {
    name: 'behind squid ssl-bump not marked (it intercepts and answers HTTP/1.1): one EgressTLSIntercepted for the path, naming the downgrade, not also EgressHTTP2Downgraded',
    config: (lab) => ({
      compare_direct: true,
      proxies: [{ name: 'bump', url: lab.squidBump.url, expect_interception: false }],
      targets: [vendorTarget('cgr.dev', lab.origin.port), vendorTarget('apk.cgr.dev', lab.origin.port)],
    }),
    expect: () => [{ alert: 'EgressTLSIntercepted', labels: { path: 'bump', severity: 'critical' } }],
  },
  {
    name: 'behind squid ssl-bump marked expect_interception: one EgressHTTP2Downgraded for the path',
    config: (lab) => ({
      compare_direct: true,
      proxies: [{ name: 'bump', url: lab.squidBump.url, expect_interception: true }],
      targets: [vendorTarget('cgr.dev', lab.origin.port), vendorTarget('apk.cgr.dev', lab.origin.port)],
    }),
    expect: () => [{ alert: 'EgressHTTP2Downgraded', labels: { path: 'bump', severity: 'critical' } }],
  },
  {
    name: 'a proxy that cannot resolve the host (tinyproxy, 500 Unable to connect): the host is unreachable, not the proxy failing',
    config: (lab) => ({
      // A proxy-only network: the local resolver knows no outside name, and it is not required.
      proxies: [{ name: 'tiny', url: lab.tinyproxy.url }],
      dns: { servers: [lab.emptyDns.address.name] },
      targets: [vendorTarget('cgr.dev', lab.origin.port), vendorTarget(UNRESOLVABLE_HOST, lab.origin.port)],
    }),
    expect: (lab) => [{ alert: 'EgressHostUnreachable', labels: { host: UNRESOLVABLE_HOST, port: String(lab.origin.port), path: 'tiny', reason: 'proxy_bad_gateway', severity: 'critical' } }],
  },
  {
    name: 'a proxy that wants credentials (squid basic auth, none given): one EgressProxyDenied for the path',
    config: (lab) => ({
      proxies: [{ name: 'squid', url: lab.squidAuth.url }],
      dns: { servers: [lab.emptyDns.address.name] },
      targets: [vendorTarget('cgr.dev', lab.origin.port), vendorTarget('apk.cgr.dev', lab.origin.port)],
    }),
    expect: () => [{ alert: 'EgressProxyDenied', labels: { path: 'squid', reason: 'proxy_auth_required', severity: 'critical' } }],
  },
  {
    name: 'a proxy-only network, with the right credentials: local lookups fail, nothing pages',
    config: (lab) => {
      const url = new URL(lab.squidAuth.url);
      url.username = CREDENTIALS.user;
      url.password = CREDENTIALS.pass;
      return {
        proxies: [{ name: 'squid', url: url.href }],
        dns: { servers: [lab.emptyDns.address.name] },
        targets: [vendorTarget('cgr.dev', lab.origin.port), vendorTarget('apk.cgr.dev', lab.origin.port), vendorTarget('packages.wolfi.dev', lab.origin.port)],
      };
    },
    expect: () => [],
  },
  {
    name: 'two targets on one host, one port closed: one EgressHostUnreachable naming that port',
    config: (lab) => ({ proxy: 'none', targets: [vendorTarget('cgr.dev', lab.origin.port), vendorTarget('cgr.dev', lab.closedPort)] }),
    expect: (lab) => [{ alert: 'EgressHostUnreachable', labels: { host: 'cgr.dev', port: String(lab.closedPort), path: 'direct', reason: 'refused', severity: 'critical' } }],
  },
  {
    name: "an internal target judged on its own requirement list (RSA only, TLS 1.3): nothing, where the vendor's list would page",
    config: (lab) => ({ proxy: 'none', targets: [{ host: 'packages.wolfi.dev', port: lab.rsaOrigin.port, tls_requirements: ['tls13_aes_256_gcm_sha384', 'sig_rsa_pss_rsae_sha256'] }] }),
    expect: () => [],
  },
  {
    name: "the same internal target judged on the vendor's list: one EgressTLSRequirementNotMet naming the host",
    config: (lab) => ({ proxy: 'none', targets: [vendorTarget('packages.wolfi.dev', lab.rsaOrigin.port)] }),
    expect: (lab) => [{ alert: 'EgressTLSRequirementNotMet', labels: { host: 'packages.wolfi.dev', port: String(lab.rsaOrigin.port), path: 'direct', severity: 'critical' } }],
  },
  {
    name: 'two replicas of one config (an HA pair) and a closed port: one page, not two',
    config: (lab) => ({ proxy: 'none', targets: [vendorTarget('cgr.dev', lab.closedPort)] }),
    scrapes: [
      { job: 'egress', instance: 'egress-0:9739', pod: 'egress-0' },
      { job: 'egress', instance: 'egress-1:9739', pod: 'egress-1' },
    ],
    expect: (lab) => [{ alert: 'EgressHostUnreachable', labels: { host: 'cgr.dev', port: String(lab.closedPort), path: 'direct', reason: 'refused', severity: 'critical' } }],
  },
  {
    name: 'two zones see the same closed port: one page each, told apart by egress_zone',
    config: (lab) => ({ proxy: 'none', targets: [vendorTarget('cgr.dev', lab.closedPort)] }),
    scrapes: [
      { job: 'egress', instance: 'a:9739', egress_zone: 'eu-west' },
      { job: 'egress', instance: 'b:9739', egress_zone: 'us-east' },
    ],
    expect: (lab) =>
      ['eu-west', 'us-east'].map((zone) => ({ alert: 'EgressHostUnreachable', labels: { egress_zone: zone, host: 'cgr.dev', port: String(lab.closedPort), path: 'direct', reason: 'refused', severity: 'critical' } })),
  },
];

/** The exporter under test runs in this test's process: its thread's stalls are the harness's (vitest, promtool), not a scenario's. */
const HARNESS_SERIES = new Set(['egress_exporter_event_loop_stall_max_seconds']);

/** Every sample the shipped rules read (a histogram's by its family), with the labels Prometheus adds. */
function rulesInput(samples: readonly SeriesSample[], added: Record<string, string>): SeriesSample[] {
  const used = new Set(alertExpressions().flatMap((a) => metricNamesIn(a.expr)).map(histogramFamily));
  return samples.filter((s) => used.has(histogramFamily(s.name)) && !HARNESS_SERIES.has(s.name)).map((s) => ({ ...s, labels: { ...s.labels, ...added } }));
}

describe('the alert truth table: the shipped rules over what real scenarios produce', () => {
  let lab: Lab;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    const pki = await getPki();
    const names = ['cgr.dev', 'apk.cgr.dev', 'packages.wolfi.dev'];
    const [dns, emptyDns, origin, rsaOrigin, closedPort] = await Promise.all([
      startDnsServer(Object.fromEntries(names.map((n) => [n, { a: ['127.0.0.1'] }]))),
      startDnsServer({}),
      startOrigin('h2'),
      startOrigin('h2', '127.0.0.1', 'rsa'),
      refusedPort(),
    ]);
    stops.push(() => dns.close(), () => emptyDns.close(), () => origin.close(), () => rsaOrigin.close());
    // Both mitmproxies sign with one CA, as a company's proxies do: two CAs of one subject
    // ("CN=mitmproxy") in one trust file would leave OpenSSL choosing between them by name.
    const mitmDir = await tempDir('egress-truth-mitm-');
    stops.push(() => rm(mitmDir, { recursive: true, force: true }));
    const confdir = join(mitmDir, 'confdir');
    const mitm = await startMitmproxy({ confdir });
    stops.push(() => mitm.stop());
    const [mitmHttp1, tinyproxy, squidAuth, squidBump] = await Promise.all([
      startMitmproxy({ confdir, http2: false }),
      startTinyproxy(),
      startSquid({ basicAuth: CREDENTIALS }),
      startSquid({ sslBump: true }),
    ]);
    for (const p of [mitmHttp1, tinyproxy, squidAuth, squidBump]) stops.push(() => p.stop());
    if (squidBump.bumpCa === undefined) throw new Error('squid ssl-bump wrote no CA');
    lab = { dns, emptyDns, origin, rsaOrigin, closedPort, mitm, mitmHttp1, tinyproxy, squidAuth, squidBump: { ...squidBump, bumpCa: squidBump.bumpCa }, publicCa: pki.rootCa };
  }, 60_000);

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }, 30_000);

  it.each(ROWS.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const dir = await tempDir('egress-truth-');
    await writeFile(join(dir, 'public-ca.pem'), lab.publicCa);
    // The interceptors' CAs are trusted, as a corporate machine's are; the lab's own CA counts as public.
    await writeFile(join(dir, 'ca.pem'), [lab.mitm.caCert, lab.squidBump.bumpCa].join('\n'));
    const own = row.config(lab);
    const config = {
      catalog: 'none',
      interval: '30s',
      timeout: '5s',
      tls: { ca_file: 'ca.pem', public_ca_file: 'public-ca.pem', requirements: [...TLS_REQUIREMENTS] },
      ...own,
      dns: { servers: [lab.dns.address.name], ...(own.dns as Record<string, unknown> | undefined) },
    };
    const scrapes = row.scrapes ?? [{ job: 'egress', instance: 'exporter:9739' }];
    const samples: SeriesSample[] = [];
    const nowSeconds = Date.now() / 1000;
    for (const added of scrapes) {
      const exporter = await startTestExporter(stringify(config), { dir });
      try {
        const scraped = await exporter.scrape();
        samples.push(...rulesInput(scraped.samples, added));
      } finally {
        await exporter.stop();
      }
    }
    const testFile = join(dir, 'truth.yml');
    await writeFile(testFile, stringify(alertsOnSeriesTest(samples, row.expect(lab), { nowSeconds }), { lineWidth: 0 }));
    const result = await runPromtool(['test', 'rules', testFile]);
    expect(result.stdout + result.stderr, `${row.name}\n${testFile}`).toContain('SUCCESS');
    expect(result.code).toBe(0);
    await rm(dir, { recursive: true, force: true });
  }, 60_000);
});
