// The dashboards agree with the paging rule (alerts/README.md, "Which series page, and how
// they add up"): the replicas of one vantage point (an HA pair) read as one replica, two
// vantage points (zones) never hide each other, two ports of one host are two rows, and
// shards add up. Real exporters probe a loopback lab (DNS, an h2 origin, a registry, a
// closed port, proxies); their scrapes get the labels Prometheus would add (job, instance,
// pod, egress_zone), and promtool, Prometheus' own engine, evaluates the dashboards'
// queries with the variables expanded as Grafana would expand them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { TLS_REQUIREMENTS } from '../src/model/tls-requirements.js';
import { startDnsServer } from './fixtures/dns-server.js';
import type { DnsFixture } from './fixtures/dns-server.js';
import { startOrigin } from './fixtures/http-servers.js';
import type { RunningOrigin } from './fixtures/http-servers.js';
import { getPki } from './fixtures/pki.js';
import { startProxy } from './fixtures/proxies.js';
import type { RunningProxy } from './fixtures/proxies.js';
import { BLOB_HOST_NAME, REPOSITORY, startRegistryFixture } from './fixtures/registry-server.js';
import type { RegistryFixture } from './fixtures/registry-server.js';
import { closedPort, startListener } from './fixtures/tcp-peers.js';
import { startTestExporter, tempDir, writeTestCa } from './helpers/exporter.js';
import type { TestExporterOptions } from './helpers/exporter.js';
import { PER_REPLICA_PANELS, dashboardQueries, differences, queriesOnSeriesTest, runPromtool } from './helpers/monitoring-queries.js';
import type { DashboardQuery, SeriesSample } from './helpers/monitoring-queries.js';

/** The host the origin serves (its leaf names it), on two ports: the origin's and a closed one. */
const WEB = 'apk.cgr.dev';
/** A host that must stay blocked, and does (the closed port; the proxies cannot reach it): the "Must stay blocked" panels have data. */
const CANARY = 'canary.hostile.test';
const TEAM = 'web';
/** Panel queries that return nothing in this lab, by `dashboard / title / refId`, with the reason. */
const EMPTY_IN_THIS_LAB: Record<string, string> = {
  'egress-overview / Pull token expiry / A': 'the registry is pulled anonymously: no credential, no expiry',
};

/** The overview's counts. */
const COUNTS = ['Checks failing', 'TLS requirements not met', 'HTTP/2 downgrades', 'Intercepted paths', 'Hosts'];

type Case = { expr: string; expected: ReadonlyArray<{ labels: Record<string, string>; value: number }> };

const key = (q: DashboardQuery): string => `${q.dashboard} / ${q.title} / ${q.refId}`;
/** A label value as a Grafana variable puts it in a regex matcher. */
const regex = (value: string): string => value.replace(/[.+]/g, (c) => `\\\\${c}`);

/** The one panel query of a dashboard whose title starts with `title`, variables set to `values`. */
function panelQuery(dashboard: string, title: string, values: Record<string, string>, refId = 'A'): string {
  const found = dashboardQueries(values).filter((q) => q.dashboard === dashboard && q.kind === 'panel' && q.title.startsWith(title) && q.refId === refId);
  if (found.length !== 1) throw new Error(`${dashboard}: expected one panel ${title} / ${refId}, found ${found.length}`);
  return found[0]!.expr;
}

/** Every panel query, with the variables set to each of `sets`, side by side. */
function panelQueriesUnder(...sets: Array<Record<string, string>>): Array<{ key: string; exprs: string[] }> {
  const lists = sets.map((values) => dashboardQueries(values).filter((q) => q.kind === 'panel'));
  return lists[0]!.map((q, i) => ({ key: key(q), exprs: lists.map((list) => list[i]!.expr) }));
}

/** Runs promtool on `cases` over `samples` (counters rising); resolves with its output, and whether it passed. */
async function evaluate(name: string, samples: readonly SeriesSample[], cases: readonly Case[], nowSeconds: number): Promise<{ ok: boolean; output: string; file: string }> {
  const dir = await tempDir(`egress-dashboards-${name}-`);
  const file = join(dir, 'queries.yml');
  await writeFile(file, stringify(queriesOnSeriesTest(samples, cases, { nowSeconds, risingCounters: true }), { lineWidth: 0 }));
  const result = await runPromtool(['test', 'rules', file]);
  const ok = result.code === 0 && result.stdout.includes('SUCCESS');
  if (ok) await rm(dir, { recursive: true, force: true });
  return { ok, output: result.stdout + result.stderr, file };
}

/** Starts an exporter on `yaml`, scrapes it once and stops it. */
async function scrapeOnce(yaml: string, options: TestExporterOptions = {}): Promise<SeriesSample[]> {
  const exporter = await startTestExporter(yaml, options);
  try {
    return (await exporter.scrape()).samples;
  } finally {
    await exporter.stop();
  }
}

/** One scrape as each of `scrapes` (the labels Prometheus adds) stores it: replicas that saw the same. */
const asScrapes = (samples: readonly SeriesSample[], scrapes: ReadonlyArray<Record<string, string>>): SeriesSample[] =>
  scrapes.flatMap((added) => samples.map((s) => ({ ...s, labels: { ...s.labels, ...added } })));

const replica = (job: string, name: string, zone?: string): Record<string, string> => ({ job, instance: `${name}:9739`, pod: name, ...(zone === undefined ? {} : { egress_zone: zone }) });

describe('dashboards: replicas, vantage points, ports and shards', () => {
  const stops: Array<() => Promise<void>> = [];
  let dns: DnsFixture;
  let origin: RunningOrigin;
  let registry: RegistryFixture;
  let closed: number;
  /** One scrape of an exporter of every check, direct and through three proxies. */
  let lab: SeriesSample[];
  let labNow: number;

  beforeAll(async () => {
    const pki = await getPki();
    [dns, origin, registry, closed] = await Promise.all([
      startDnsServer(Object.fromEntries([WEB, 'cgr.dev', BLOB_HOST_NAME, CANARY].map((name) => [name, { a: ['127.0.0.1'], ttl: 600 }]))),
      startOrigin('h2'),
      startRegistryFixture(),
      closedPort(),
    ]);
    stops.push(() => dns.close(), () => origin.close(), () => registry.close());
    const map = { [`${WEB}:${origin.port}`]: origin.port, ...registry.ports };
    const proxies: RunningProxy[] = await Promise.all([
      startProxy({ mode: 'tunnel', map }),
      // A TLS-inspecting proxy on a path meant to be clean: interception and a downgrade to count.
      startProxy({ mode: 'intercept', map }),
      // Denies the blob host: the pull fails at blob_redirect while the registry answers.
      startProxy({ mode: 'tunnel', map, denySuffixes: ['.registry.test'] }),
    ]);
    for (const p of proxies) stops.push(() => p.close());
    const [open, inspect, corp] = proxies as [RunningProxy, RunningProxy, RunningProxy];

    const dir = await tempDir('egress-dashboards-lab-');
    stops.push(() => rm(dir, { recursive: true, force: true }));
    await writeTestCa(dir, pki.evilCa);
    labNow = Date.now() / 1000;
    lab = await scrapeOnce(
      stringify({
        catalog: 'none',
        interval: '30s',
        timeout: '5s',
        dns: { servers: [dns.address.name], firewall_refresh_interval: '5m' },
        tls: { ca_file: 'ca.pem', requirements: [...TLS_REQUIREMENTS] },
        compare_direct: true,
        proxies: [
          { name: 'open', url: open.url },
          { name: 'inspect', url: inspect.url },
          { name: 'corp', url: corp.url },
        ],
        registries: [{ host: 'cgr.dev', port: registry.registryPort, repository: REPOSITORY }],
        targets: [
          { host: WEB, port: origin.port, labels: { team: TEAM } },
          { host: WEB, port: closed, labels: { team: TEAM } },
          { host: CANARY, port: closed, checks: ['dns', 'tcp'], expect: 'blocked' },
        ],
      }),
      { dir },
    );
  }, 60_000);

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }, 30_000);

  it("an HA pair shows exactly what one replica shows, on every panel but the exporter's own health", async () => {
    // The same scrape as one replica (job single) and as an HA pair (job pair): only instance and pod differ.
    const samples = [
      ...asScrapes(lab, [replica('single', 'single', 'eu-west')]),
      ...asScrapes(lab, [replica('pair', 'egress-0', 'eu-west'), replica('pair', 'egress-1', 'eu-west')]),
    ];
    const base = { label: 'team' };
    const queries = panelQueriesUnder(
      { ...base, job: 'single' },
      // Both replicas ("All" instances), and one of them picked in the instance variable.
      { ...base, job: 'pair' },
      { ...base, job: 'pair', instance: regex('egress-0:9739') },
    );
    expect(queries.length).toBeGreaterThan(60);
    const perReplica = (k: string) => PER_REPLICA_PANELS.some((panel) => k.startsWith(`${panel} / `));
    const cases: Case[] = [];
    for (const { key: k, exprs } of queries) {
      const [single, pair, one] = exprs as [string, string, string];
      if (perReplica(k)) {
        // Per replica: a series for each replica of the pair, and the picked instance alone.
        cases.push({ expr: `count(${pair}) / count(${single})`, expected: [{ labels: {}, value: 2 }] });
        cases.push({ expr: `count(${one}) / count(${single})`, expected: [{ labels: {}, value: 1 }] });
        continue;
      }
      cases.push({ expr: differences(single, pair), expected: [] });
      cases.push({ expr: differences(single, one), expected: [] });
      // Not vacuous: the query has data here, or is listed as empty (and then still is).
      cases.push({ expr: `absent(${single})`, expected: k in EMPTY_IN_THIS_LAB ? [{ labels: {}, value: 1 }] : [] });
      // The counts have something to double here: the closed port, the inspecting proxy.
      if (single.startsWith('count(') && COUNTS.some((title) => k === `egress-overview / ${title} / A`)) cases.push({ expr: `(${single}) == 0`, expected: [] });
    }
    expect(queries.filter((q) => perReplica(q.key)).map((q) => q.key.replace(/ \/ [A-Z]$/, ''))).toEqual(expect.arrayContaining([...PER_REPLICA_PANELS]));
    expect(queries.map((q) => q.key)).toEqual(expect.arrayContaining(Object.keys(EMPTY_IN_THIS_LAB)));
    const { ok, output, file } = await evaluate('ha-pair', samples, cases, labNow);
    expect(ok, `${file}\n${output.slice(0, 20_000)}`).toBe(true);
  }, 120_000);

  it('one host on two ports, one closed: two rows, one failing, in both dashboards', async () => {
    const samples = asScrapes(lab, [replica('egress', 'egress-0'), replica('egress', 'egress-1')]);
    const values = { job: 'egress', label: 'team', host: regex(WEB), path: 'direct' };
    const row = (port: number) => `${TEAM} · ${WEB}:${port}`;
    const failingOnly = (expr: string) => `(${expr}) unless on (reason) label_replace(vector(1), "reason", "ok", "", "")`;
    const cases: Case[] = [];
    for (const dashboard of ['egress-overview', 'egress-host']) {
      const matrix = panelQuery(dashboard, dashboard === 'egress-host' ? 'Checks' : 'Status matrix', values);
      cases.push({ expr: `group by (host, port) (${matrix})`, expected: [origin.port, closed].map((port) => ({ labels: { host: row(port), port: String(port) }, value: 1 })) });
      cases.push({ expr: `group by (host, port) (${failingOnly(matrix)})`, expected: [{ labels: { host: row(closed), port: String(closed) }, value: 1 }] });
      // The timeline names both targets too.
      cases.push({
        expr: `group by (host) (${panelQuery(dashboard, 'Check status over time', values)})`,
        expected: [origin.port, closed].map((port) => ({ labels: { host: `${WEB}:${port}` }, value: 1 })),
      });
    }
    const { ok, output, file } = await evaluate('two-ports', samples, cases, labNow);
    expect(ok, `${file}\n${output.slice(0, 20_000)}`).toBe(true);
  }, 60_000);

  it('two zones, one with the port closed: counted once, and in that zone\'s row of the status matrix', async () => {
    // One name, two answers: eu-west's resolver gives the listener's address, us-east's
    // another loopback address, where nothing listens on that port (a firewall in one zone).
    const listener = await startListener();
    const zones = await Promise.all([
      startDnsServer({ 'svc.test': { a: ['127.0.0.1'], ttl: 600 } }),
      startDnsServer({ 'svc.test': { a: ['127.0.0.2'], ttl: 600 } }),
    ]);
    try {
      const nowSeconds = Date.now() / 1000;
      const scrapes = await Promise.all(
        (['eu-west', 'us-east'] as const).map(async (zone, i) => {
          const scraped = await scrapeOnce(
            stringify({
              catalog: 'none',
              interval: '30s',
              timeout: '2s',
              proxy: 'none',
              dns: { servers: [zones[i]!.address.name] },
              targets: [{ host: 'svc.test', port: listener.port, checks: ['dns', 'tcp'] }],
            }),
          );
          // Each zone an HA pair: what pages twice in no zone must count once per zone.
          return asScrapes(scraped, [replica('egress', `${zone}-0`, zone), replica('egress', `${zone}-1`, zone)]);
        }),
      );
      const samples = scrapes.flat();
      const values = { job: 'egress', label: 'team' };
      const port = String(listener.port);
      const cell = (zone: string, check: string, where: string, reason: string) => ({
        labels: { host: `${zone} · svc.test:${port}`, egress_zone: zone, port, check, where, check_where: `${check} · ${where}`, reason },
        value: 1,
      });
      const cases: Case[] = [
        { expr: panelQuery('egress-overview', 'Checks failing', values), expected: [{ labels: {}, value: 1 }] },
        // One target, probed from two zones.
        { expr: panelQuery('egress-overview', 'Hosts', values), expected: [{ labels: {}, value: 1 }] },
        {
          expr: panelQuery('egress-overview', 'Status matrix', values),
          expected: [
            cell('eu-west', 'dns', zones[0].address.name, 'ok'),
            cell('eu-west', 'tcp', 'direct', 'ok'),
            cell('us-east', 'dns', zones[1].address.name, 'ok'),
            cell('us-east', 'tcp', 'direct', 'refused'),
          ],
        },
        {
          expr: `${panelQuery('egress-overview', 'Check status over time', values)} == 0`,
          expected: [{ labels: { host: `us-east · svc.test:${port}`, egress_zone: 'us-east', port, check: 'tcp', path: 'direct', where: 'direct' }, value: 0 }],
        },
      ];
      const { ok, output, file } = await evaluate('zones', samples, cases, nowSeconds);
      expect(ok, `${file}\n${output.slice(0, 20_000)}`).toBe(true);
    } finally {
      await listener.close();
      for (const zone of zones) await zone.close();
    }
  }, 60_000);

  it("three shards add up: Hosts is the config's target count, and the rounds rate every target's", async () => {
    const hosts = ['s1.test', 's2.test', 's3.test', 's4.test', 's5.test', 's6.test'];
    const shardDns = await startDnsServer(Object.fromEntries(hosts.map((h) => [h, { a: ['127.0.0.1'], ttl: 600 }])));
    try {
      const config = stringify({ catalog: 'none', interval: '30s', timeout: '2s', dns: { servers: [shardDns.address.name] }, targets: hosts.map((host) => ({ host, checks: ['dns'] })) });
      const nowSeconds = Date.now() / 1000;
      const shards = await Promise.all([0, 1, 2].map((ordinal) => scrapeOnce(config, { shard: { ordinal, total: 3 } })));
      const owned = shards.map((scraped) => scraped.filter((s) => s.name === 'egress_target_info').map((s) => s.labels.host!));
      // Each shard an HA pair of its own.
      const samples = shards.flatMap((scraped, ordinal) => asScrapes(scraped, [replica('egress', `egress-${ordinal}-a`), replica('egress', `egress-${ordinal}-b`)]));
      // The shards split the targets: each one once, none with all of them.
      expect(owned.flat().sort()).toEqual(hosts);
      expect(owned.every((mine) => mine.length < hosts.length)).toBe(true);
      const values = { job: 'egress', label: 'team' };
      const cases: Case[] = [
        { expr: panelQuery('egress-overview', 'Hosts', values), expected: [{ labels: {}, value: hosts.length }] },
        // Each target's counter rises one a minute: six targets, one round a minute each, not twelve.
        { expr: `round(60 * ${panelQuery('egress-overview', 'Rounds and failures', values)})`, expected: [{ labels: {}, value: hosts.length }] },
        { expr: panelQuery('egress-overview', 'Checks failing', values), expected: [{ labels: {}, value: 0 }] },
      ];
      const { ok, output, file } = await evaluate('shards', samples, cases, nowSeconds);
      expect(ok, `${file}\n${output.slice(0, 20_000)}`).toBe(true);
    } finally {
      await shardDns.close();
    }
  }, 60_000);
});
