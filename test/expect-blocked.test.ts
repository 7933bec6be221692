// Paths that must stay blocked, end to end on loopback: a refused port, a proxy that denies
// a category canary with 403, a name that does not exist (NXDOMAIN) and one a resolver
// sinkholes, beside a host that must work on both paths. Each is blocked, then opened
// while the exporter runs, then closed again: the verdict series, the overall verdict
// (roundOk) and the pages (the shipped rules, run by promtool over the scraped series)
// follow, and the dashboards count holes apart from checks that must work.
// (A blackholed address, nft DROP in a network namespace, is expect-blocked-netns.test.ts.)
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { roundOk } from '../src/checks/judge.js';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { startOrigin } from './fixtures/http-servers.js';
import type { RunningOrigin } from './fixtures/http-servers.js';
import { startProxy } from './fixtures/proxies.js';
import type { RunningProxy } from './fixtures/proxies.js';
import { closedPort } from './fixtures/tcp-peers.js';
import { startTestExporter, tempDir, writeTestCa } from './helpers/exporter.js';
import type { TestExporterOnFile } from './helpers/exporter.js';
import { alertsOnSeriesTest, dashboardQueries, queriesOnSeriesTest, runPromtool } from './helpers/monitoring-queries.js';
import { scrapeUntil } from './helpers/scrape.js';
import type { Scrape } from './helpers/scrape.js';

const WORK = 'work.hostile.test';
const REFUSED = 'refused.hostile.test';
const NX = 'nx.hostile.test';
const SINK = 'sink.hostile.test';
const CANARY = 'canary.hostile.test';

/** Every verdict of the scrape, as `host path` -> verdict. */
function verdicts(m: Scrape): Record<string, string> {
  return Object.fromEntries(m.find('egress_blocked_verdict').filter((s) => s.value === 1).map((s) => [`${s.labels.host} ${s.labels.path}`, s.labels.verdict ?? '']));
}

async function promtool(name: string, test: Record<string, unknown>): Promise<string> {
  const file = join(await tempDir('egress-blocked-promtool-'), `${name}.yml`);
  await writeFile(file, stringify(test, { lineWidth: 0 }));
  const result = await runPromtool(['test', 'rules', file]);
  return `${result.code} ${result.stdout}${result.stderr}`;
}

/**
 * Exactly these pages (alert and labels) fire on the series of `m`, by the shipped rules.
 * The exporter runs in this test's process: its event-loop stalls are vitest's and
 * promtool's, not the exporter's, so they are left out.
 */
function pagesOf(m: Scrape, pages: Array<{ alert: string; labels: Record<string, string> }>): Promise<string> {
  const samples = m.samples.filter((s) => !s.name.startsWith('egress_exporter_event_loop_stall'));
  return promtool('pages', alertsOnSeriesTest(samples, pages, { nowSeconds: Date.now() / 1000 }));
}

/** The overview dashboard's "Checks failing" and "Holes" on the series of `m` read `failing` and `holes`. */
function dashboardCounts(m: Scrape, failing: number, holes: number): Promise<string> {
  const panel = (title: string) => dashboardQueries().find((q) => q.dashboard === 'egress-overview' && q.kind === 'panel' && q.title === title)!.expr;
  return promtool(
    'dashboard',
    queriesOnSeriesTest(
      m.samples,
      [
        { expr: panel('Checks failing'), expected: [{ labels: {}, value: failing }] },
        { expr: panel('Holes'), expected: [{ labels: {}, value: holes }] },
      ],
      { nowSeconds: Date.now() / 1000 },
    ),
  );
}

describe('paths that must stay blocked, blocked, then opened, then closed while the exporter runs', () => {
  let dns: DnsFixture;
  let origin: RunningOrigin;
  let proxy: RunningProxy;
  let exporter: TestExporterOnFile;
  let refusedPort: number;
  /** The proxy's category filter, read at each CONNECT: emptied to open the canary. */
  const denied: string[] = [CANARY];
  let relay: net.Server | undefined;

  const report = (host: string) => {
    const target = exporter.exporter.targets.find((t) => t.host === host)!;
    return exporter.exporter.results.get(target)!.report!;
  };
  const rounds = (m: Scrape, host: string): number => m.find('egress_exporter_rounds_total', { host })[0]?.value ?? 0;

  beforeAll(async () => {
    const dir = await tempDir('egress-blocked-');
    await writeTestCa(dir);
    origin = await startOrigin('h2');
    refusedPort = await closedPort();
    dns = await startDnsServer({
      [WORK]: { a: ['127.0.0.1'] },
      [REFUSED]: { a: ['127.0.0.1'] },
      [CANARY]: { a: ['127.0.0.1'] },
      // What a DNS filter answers (a loopback resolver may answer loopback; 0.0.0.0 is a sinkhole from anyone).
      [SINK]: { a: ['0.0.0.0'] },
      // NX is not in the zone: NXDOMAIN.
    });
    proxy = await startProxy({ mode: 'tunnel', map: { [`${WORK}:${origin.port}`]: origin.port, [`${CANARY}:${origin.port}`]: origin.port }, denySuffixes: denied });
    exporter = await startTestExporter(
      `catalog: none
interval: 1s
timeout: 800ms
dns: { servers: ["${dns.address.name}"] }
tls: { ca_file: ca.pem }
compare_direct: true
proxies:
  - { name: filter, url: "${proxy.url}" }
targets:
  # Must work on both paths: it tells the paths work.
  - { host: ${WORK}, port: ${origin.port} }
  # Must stay blocked everywhere (the proxy cannot reach them: 502, blocked there too).
  - { host: ${REFUSED}, port: ${refusedPort}, expect: blocked }
  - { host: ${NX}, port: ${origin.port}, expect: blocked }
  - { host: ${SINK}, port: ${origin.port}, expect: blocked }
  # A category canary: the proxy must deny it; direct it may go.
  - { host: ${CANARY}, port: ${origin.port}, expect: { filter: blocked } }
`,
      { dir },
    );
  }, 30_000);

  afterAll(async () => {
    await exporter?.stop();
    await new Promise((resolve) => (relay ? relay.close(resolve) : resolve(undefined)));
    await proxy?.close();
    await origin?.close();
    await dns?.close();
  });

  const allBlocked = {
    [`${REFUSED} direct`]: 'blocked',
    [`${REFUSED} filter`]: 'blocked',
    [`${NX} direct`]: 'blocked',
    [`${NX} filter`]: 'blocked',
    [`${SINK} direct`]: 'blocked',
    [`${SINK} filter`]: 'blocked',
    [`${CANARY} filter`]: 'blocked',
  };

  async function expectBlocked(): Promise<void> {
    const since = Date.now() / 1000;
    // A whole round of every target after the change.
    const m = await scrapeUntil(exporter.base, (s) => [WORK, REFUSED, NX, SINK, CANARY].every((h) => (s.value('egress_exporter_round_finished_timestamp_seconds', { host: h, port: String(h === REFUSED ? refusedPort : origin.port) }) ?? 0) > since + 1) && Object.keys(verdicts(s)).length === 7, 20_000);
    expect(verdicts(m)).toEqual(allBlocked);
    // How each was kept out.
    expect(report(REFUSED).paths.map((p) => p.blocked?.detail)).toEqual([expect.stringMatching(/^the connection is refused/), expect.stringMatching(/^the proxy cannot reach or resolve it/)]);
    expect(report(NX).paths[0]?.blocked?.detail).toMatch(/^resolver 127\.0\.0\.1:\d+ answers nxdomain/);
    expect(report(SINK).paths[0]?.blocked?.detail).toMatch(/^resolver 127\.0\.0\.1:\d+ answers sinkholed/);
    expect(report(CANARY).paths.map((p) => [p.path.name, p.blocked?.detail])).toEqual([['direct', undefined], ['filter', expect.stringMatching(/^the proxy denies it \(403\)/)]]);
    // The overall verdict holds for every target; the names that must stay blocked are not required to resolve.
    expect([WORK, REFUSED, NX, SINK, CANARY].map((h) => [h, roundOk(report(h))])).toEqual([WORK, REFUSED, NX, SINK, CANARY].map((h) => [h, true]));
    expect(m.find('egress_dns_resolution_required', { host: NX }).map((s) => s.value)).toEqual([0]);
    // No page: not even for the refusals, the 403, the 502s, the NXDOMAIN and the sinkhole.
    expect(await pagesOf(m, [])).toMatch(/^0 .*SUCCESS/s);
    expect(await dashboardCounts(m, 0, 0)).toMatch(/^0 .*SUCCESS/s);
  }

  it('is blocked four ways, and pages nothing', async () => {
    await expectBlocked();
  });

  it('gets out once opened, within two rounds, and pages once for each host and path', async () => {
    const before = await scrapeUntil(exporter.base, () => true);
    const roundsBefore = Object.fromEntries([REFUSED, NX, SINK, CANARY].map((h) => [h, rounds(before, h)]));
    // Open each: a listener on the refused port (relaying to the origin), real addresses for
    // the two names, and the proxy's category filter off.
    relay = net.createServer((client) => {
      const upstream = net.connect(origin.port, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => relay!.once('error', reject).listen(refusedPort, '127.0.0.1', resolve));
    dns.set(NX, { a: ['127.0.0.1'] });
    dns.set(SINK, { a: ['127.0.0.1'] });
    denied.splice(0);

    const opened = { ...allBlocked, [`${REFUSED} direct`]: 'reachable', [`${NX} direct`]: 'reachable', [`${SINK} direct`]: 'reachable', [`${CANARY} filter`]: 'reachable' };
    // Polled far faster than rounds run: the first scrape that shows every hole.
    const m = await scrapeUntil(exporter.base, (s) => JSON.stringify(verdicts(s)) === JSON.stringify(opened), 20_000);
    const taken = Object.fromEntries([REFUSED, NX, SINK, CANARY].map((h) => [h, rounds(m, h) - (roundsBefore[h] ?? 0)]));
    for (const [host, n] of Object.entries(taken)) expect(n, `${host}: rounds until the hole showed`).toBeLessThanOrEqual(2);
    expect(report(REFUSED).paths[0]?.blocked).toEqual({ verdict: 'reachable', check: 'http', detail: 'got out: the host answers HTTP 200' });
    expect(report(CANARY).paths[1]?.blocked).toEqual({ verdict: 'reachable', check: 'http', detail: 'got out: the host answers HTTP 200 through the proxy' });
    expect([REFUSED, NX, SINK, CANARY].map((h) => roundOk(report(h)))).toEqual([false, false, false, false]);
    expect(roundOk(report(WORK))).toBe(true);
    const page = (host: string, path: string, port: number) => ({ alert: 'EgressBlockedHostReachable', labels: { host, path, port: String(port), severity: 'critical' } });
    expect(await pagesOf(m, [page(REFUSED, 'direct', refusedPort), page(NX, 'direct', origin.port), page(SINK, 'direct', origin.port), page(CANARY, 'filter', origin.port)])).toMatch(/^0 .*SUCCESS/s);
    expect(await dashboardCounts(m, 0, 4)).toMatch(/^0 .*SUCCESS/s);
  });

  it('is blocked again once closed, and the pages end', async () => {
    await new Promise((resolve) => relay!.close(resolve));
    relay = undefined;
    dns.delete(NX);
    dns.set(SINK, { a: ['0.0.0.0'] });
    denied.push(CANARY);
    await expectBlocked();
  });
}, 90_000);
