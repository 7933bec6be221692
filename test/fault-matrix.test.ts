// The fault matrix: every hostile fixture (test/fixtures/hostile-*.ts) as a target or a
// path of ONE exporter at once, beside healthy hosts. The exporter is the built daemon
// (dist/, as `npm test` builds it), in a process of its own, so the fixtures' work
// never delays its checks. Per fault: the reason (from the documented set), the deadline
// (every check's duration, and every fixture's longest connection), and that /metrics
// kept every healthy host's results intact and fresh. Then what promtool makes of that
// very scrape with the shipped rules (one fault, one page), and the process faults:
// a burst of scrapes and reloads while rounds run, a reload to nothing (every socket
// and timer gone), SIGTERM mid-round, and SIGHUP races.
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { CheckName } from '../src/model/types.js';
import { startHostileMatrix } from './fixtures/hostile-matrix.js';
import type { Expectation, HostileMatrix, Outcome } from './fixtures/hostile-matrix.js';
import { HUGE_ANSWER, TRUNCATED_ADDRESSES, dnsFaultHost } from './fixtures/hostile-dns.js';
import { startDnsServer } from './fixtures/dns-server.js';
import { tempDir } from './helpers/exporter.js';
import { spawnDaemon } from './helpers/daemon.js';
import type { RunningDaemon } from './helpers/daemon.js';
import { alertExpressions, alertsOnSeriesTest, histogramFamily, metricNamesIn, runPromtool } from './helpers/monitoring-queries.js';
import { Scrape, durationUpperBound, parseExposition, scrape, scrapeUntil } from './helpers/scrape.js';
import { eventually } from './helpers/timing.js';

/** A check may report its own reason this long after its deadline (a loaded event loop). */
const REPORT_GRACE_SECONDS = 1;

/** A check's series labels: the dns check's resolver is its `resolver` label, every other check's path its `path`. */
const checkLabels = (host: string, check: CheckName, path: string): Record<string, string> => (check === 'dns' ? { host, check, resolver: path } : { host, check, path });
const labelsOf = (e: Pick<Expectation, 'host' | 'check' | 'path'>) => checkLabels(e.host, e.check, e.path);

function outcomeIn(m: Scrape, host: string, check: CheckName, path: string): Outcome | undefined {
  const success = m.value('egress_probe_success', checkLabels(host, check, path));
  if (success === undefined) return undefined;
  if (success === 1) return 'ok';
  const reasons = m.labelValues('egress_probe_failure_reason', 'reason', checkLabels(host, check, path));
  return reasons.length === 1 ? (reasons[0] as Outcome) : (`${reasons.length} reasons` as Outcome);
}

function wrongOutcomes(m: Scrape, expectations: readonly Expectation[]): string[] {
  return expectations
    .map((e) => ({ ...e, got: outcomeIn(m, e.host, e.check, e.path) }))
    .filter((e) => e.got === undefined || !e.outcomes.includes(e.got))
    .map((e) => `${e.host} ${e.check} ${e.path}: got ${e.got}, expected ${e.outcomes.join(' or ')}`);
}

/** The series of healthy hosts that must always be there, with their values. */
function healthySeries(m: Scrape, expectations: readonly Expectation[]): string[] {
  const out: string[] = [];
  for (const e of expectations) {
    out.push(`success ${e.host} ${e.check} ${e.path} ${m.value('egress_probe_success', labelsOf(e))}`);
    out.push(`reasons ${e.host} ${e.check} ${e.path} ${m.find('egress_probe_failure_reason', labelsOf(e)).length}`);
    out.push(`last_run ${e.host} ${e.check} ${e.path} ${m.value('egress_exporter_round_finished_timestamp_seconds', { host: e.host }) === undefined ? 'absent' : 'present'}`);
  }
  return out;
}

const openFds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

describe('the fault matrix: every fault at once, as targets of one exporter', () => {
  let matrix: HostileMatrix;
  let daemon: RunningDaemon;
  let base: string;
  let steady: Scrape;
  let healthy: Expectation[];
  const file = () => join(matrix.dir, 'egress.yml');
  const deadline = () => matrix.timeoutSeconds + REPORT_GRACE_SECONDS;

  beforeAll(async () => {
    matrix = await startHostileMatrix();
    healthy = matrix.expectations.filter((e) => e.outcomes.length === 1 && e.outcomes[0] === 'ok' && (e.path === 'direct' || e.path === 'clean' || e.check === 'dns') && e.host.startsWith('healthy-'));
    daemon = await spawnDaemon([`--config.file=${file()}`]);
    base = `http://127.0.0.1:${daemon.port}`;
    // Every host x check x path has a result; then every check runs once more, so the
    // results asserted are a steady round's, not the start-up burst's.
    await scrapeUntil(base, (m) => matrix.expectations.every((e) => m.value('egress_probe_success', labelsOf(e)) !== undefined), 40_000);
    const since = Date.now() / 1000;
    steady = await scrapeUntil(base, (m) => matrix.expectations.every((e) => (m.value('egress_exporter_round_finished_timestamp_seconds', { host: e.host }) ?? 0) > since), 40_000);
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    await matrix?.close();
  });

  it('gives every fault its reason, on every check and path', () => {
    expect(wrongOutcomes(steady, matrix.expectations)).toEqual([]);
    expect(matrix.targets.length).toBe(35);
    expect(matrix.paths.map((p) => p.name)).toEqual([
      'direct',
      'clean',
      'denied-403',
      'auth-407',
      'bad-gateway-502',
      'unavailable-503',
      'close-after-200',
      'cut-mid-tunnel',
      'never-answers',
      'garbage',
      'huge-head',
      'never-reads',
      'down',
    ]);
    expect(matrix.expectations.length).toBe(798);
  });

  it('ends every check within its deadline, and every connection a check opened with it', () => {
    const late = matrix.expectations
      .map((e) => ({ e, d: durationUpperBound(steady, 'egress_probe_duration_seconds', labelsOf(e)) }))
      .filter(({ d }) => d === undefined || d.seconds > deadline())
      .map(({ e, d }) => `${e.host} ${e.check} ${e.path}: ${d?.seconds ?? 'absent'} s (${d?.from ?? ''})`);
    expect(late).toEqual([]);
    const held = matrix
      .fixtures()
      .filter(({ fixture }) => fixture.longestConnectionMs() > deadline() * 1000)
      .map(({ name, fixture }) => `${name}: ${Math.round(fixture.longestConnectionMs())} ms`);
    expect(held).toEqual([]);
  });

  it('reports the per-check facts each fault shows', () => {
    const m = steady;
    const [primary, udpOnly] = [matrix.resolvers.primary.address.name, matrix.resolvers.udpOnly.address.name];
    // Truncated over UDP: the TCP answer (three addresses) is the one used.
    expect(m.value('egress_dns_addresses', { host: dnsFaultHost('truncated'), family: 'v4', resolver: primary })).toBe(TRUNCATED_ADDRESSES.length);
    expect(m.value('egress_dns_ttl_seconds', { host: dnsFaultHost('truncated'), type: 'A', resolver: primary })).toBe(60);
    expect(m.value('egress_dns_ttl_seconds', { host: dnsFaultHost('truncated'), type: 'A', resolver: udpOnly })).toBeUndefined();
    expect(matrix.resolvers.primary.queries.some((q) => q.name === dnsFaultHost('truncated') && q.transport === 'tcp')).toBe(true);
    // 200 addresses answered, 64 kept.
    expect(HUGE_ANSWER).toBe(200);
    expect(m.value('egress_dns_addresses', { host: dnsFaultHost('huge'), family: 'v4', resolver: primary })).toBe(64);
    for (const fault of ['cname-dangling', 'cname-loop'] as const) {
      expect(m.value('egress_dns_cname_chain_length', { host: dnsFaultHost(fault), resolver: primary }), fault).toBe(1);
      expect(m.value('egress_dns_addresses', { host: dnsFaultHost(fault), family: 'v4', resolver: primary }), fault).toBe(0);
    }
    for (const fault of ['expired', 'not-yet-valid', 'wrong-name', 'self-signed', 'missing-intermediate']) {
      const host = `tls-${fault}.hostile.test`;
      expect(m.value('egress_tls_verified', { host, path: 'direct' }), host).toBe(0);
      // The handshakes themselves are fine: every requirement is met.
      expect(m.find('egress_tls_requirement_met', { host, path: 'direct' }).map((s) => s.value), host).toEqual(Array(8).fill(1));
    }
    expect(m.value('egress_tls_cert_not_after_timestamp_seconds', { host: 'tls-expired.hostile.test', path: 'direct' })).toBe(Date.UTC(2021, 0, 1) / 1000);
    expect(m.find('egress_tls_requirement_met', { host: 'tls-alert.hostile.test', path: 'direct' }).map((s) => s.value)).toEqual(Array(8).fill(0));
    // Could not test: no verdict at all.
    for (const host of ['tls-garbage.hostile.test', 'tls-drip.hostile.test', 'tcp-accept-silent.hostile.test']) expect(m.find('egress_tls_requirement_met', { host }), host).toEqual([]);
    expect(m.value('egress_http_status_code', { host: 'http-status-5xx.hostile.test', path: 'direct' })).toBe(503);
    expect(m.value('egress_http_response_valid', { host: 'http-status-5xx.hostile.test', path: 'direct' })).toBe(0);
    for (const fault of ['h2-garbage-frames', 'h2-speaks-http1', 'h2-no-settings', 'h2-stream-never-answered']) {
      const host = `http-${fault}.hostile.test`;
      expect(m.value('egress_tls_alpn_info', { host, path: 'direct', alpn: 'h2' }), host).toBe(1);
      expect(m.value('egress_http_status_code', { host, path: 'direct' }), host).toBeUndefined();
    }
    for (const fault of ['body-never-ends', 'body-endless']) expect(m.value('egress_http_status_code', { host: `http-${fault}.hostile.test`, path: 'direct' })).toBe(200);
    // A body without end: the check read its 64 KiB and left; flow control kept the server to little more.
    const endless = matrix.targets.find((t) => t.fault === 'http/body-endless')!.bytesSent!();
    expect(endless).toBeGreaterThanOrEqual(64 * 1024);
    expect(endless).toBeLessThan(1024 * 1024);
    for (const host of ['healthy-a.hostile.test', 'healthy-b.hostile.test']) {
      for (const path of ['direct', 'clean']) {
        expect(m.value('egress_tls_version_info', { host, path, version: 'TLSv1.3' }), `${host} ${path}`).toBe(1);
        expect(m.value('egress_tls_verified', { host, path }), `${host} ${path}`).toBe(1);
        expect(m.value('egress_http_version', { host, path }), `${host} ${path}`).toBe(2);
        expect(m.value('egress_http_status_code', { host, path }), `${host} ${path}`).toBe(200);
      }
    }
  });

  it('keeps serving every healthy host intact and fresh while the faults run', async () => {
    const fresh = 2 * matrix.intervalSeconds + matrix.timeoutSeconds;
    const expected = healthySeries(steady, healthy);
    const lastRun = (m: Scrape, e: Expectation) => m.value('egress_exporter_round_finished_timestamp_seconds', { host: e.host }) ?? 0;
    const samples: Scrape[] = [];
    // Over more than `fresh`: a round may wait for slots behind the faults' checks and skip a
    // slot (as fresh allows), so only a window that long must see every healthy series advance.
    const gapMs = 2000;
    for (let i = 0; i < Math.ceil((fresh * 1000) / gapMs) + 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, gapMs));
      const m = await scrape(base);
      samples.push(m);
      expect(healthySeries(m, healthy), `scrape ${i}`).toEqual(expected);
      const now = Date.now() / 1000;
      const stale = healthy.filter((e) => now - lastRun(m, e) > fresh).map((e) => `${e.host} ${e.check} ${e.path}: ${(now - lastRun(m, e)).toFixed(1)} s old`);
      expect(stale, `scrape ${i}`).toEqual([]);
    }
    expect(expected.filter((line) => line.startsWith('success')).every((line) => line.endsWith(' 1'))).toBe(true);
    const [firstSample, lastSample] = [samples[0]!, samples.at(-1)!];
    expect(healthy.filter((e) => lastRun(lastSample, e) <= lastRun(firstSample, e)).map((e) => `${e.host} ${e.check} ${e.path}`)).toEqual([]);
    expect(healthy.length).toBe(20);
  });

  it('raises one page per fault with the shipped rules: promtool on the series this run produced', async () => {
    const m = steady;
    const nowSeconds = Date.now() / 1000;
    // The series the rules read (a histogram's by its family), as this run left them.
    const used = new Set(alertExpressions().flatMap((a) => metricNamesIn(a.expr)).map(histogramFamily));
    const samples = m.samples.filter((s) => used.has(histogramFamily(s.name)));
    // Off port 443 a target's series (and so its pages) carry its port.
    const portOf = new Map(m.find('egress_target_info').map((s) => [s.labels.host ?? '', s.labels.port ?? '443']));
    const pages = matrix.pages((host, check, path) => outcomeIn(m, host, check, path)).map((p) => {
      const port = p.labels.host === undefined ? undefined : portOf.get(p.labels.host);
      return port === undefined || port === '443' ? p : { ...p, labels: { ...p.labels, port } };
    });
    const dir = await tempDir('egress-matrix-promtool-');
    const testFile = join(dir, 'matrix.yml');
    await writeFile(testFile, stringify(alertsOnSeriesTest(samples, pages, { nowSeconds }), { lineWidth: 0 }));
    const result = await runPromtool(['test', 'rules', testFile]);
    expect(result.stdout + result.stderr, testFile).toContain('SUCCESS');
    expect(result.code).toBe(0);
    // Every fault that fails a check pages; the counts are the matrix's shape.
    const by = (alert: string) => pages.filter((p) => p.alert === alert).length;
    // A resolver's failure pages once for the resolver and reason, whatever hosts it fails.
    expect(by('EgressDNSResolutionFailing')).toBe(13);
    // A tunnelling proxy that cannot reach a host (502 from the fixture for hosts it does not map) pages the host, not the proxy.
    expect(pages.filter((p) => p.alert === 'EgressProxyFailing').every((p) => p.labels.reason !== 'proxy_bad_gateway')).toBe(true);
    expect(by('EgressTLSCertificateInvalid')).toBe(5);
    expect(by('EgressHTTPRequestFailing')).toBe(4);
    expect(by('EgressHTTPUnexpectedResponse')).toBe(1);
    // An alert to every ClientHello: one page for the host's unmet requirements, not one a requirement.
    expect(by('EgressTLSRequirementNotMet')).toBe(1);
    // The 200-then-close proxy pages the proxy, once for the path, never the hosts' handshakes.
    // (The hosts that proxy does not map get its 502: each of those pages as out of reach through it.)
    const onClose = pages.filter((p) => p.labels.path === 'close-after-200');
    expect(onClose.filter((p) => p.labels.reason !== 'proxy_bad_gateway')).toEqual([{ alert: 'EgressProxyFailing', labels: { path: 'close-after-200', reason: 'proxy_closed' } }]);
    expect(onClose.filter((p) => p.labels.reason === 'proxy_bad_gateway').every((p) => p.alert === 'EgressHostUnreachable' && p.labels.host !== undefined)).toBe(true);
  });

  it('answers a burst of 500 scrapes while rounds run', async () => {
    // A smaller exporter on the same fixtures (a healthy host, a silent peer, a proxy that
    // never answers), so the burst measures answering, not rendering 2 MiB 500 times.
    const dir = await tempDir('egress-burst-');
    await writeFile(join(dir, 'egress.yml'), matrix.yaml({}, { targets: (t) => ['healthy/a', 'tcp/accept-silent'].includes(t.fault), paths: (p) => p.name === 'never-answers' }).replace('ca_file: ca.pem', `ca_file: ${join(matrix.dir, 'ca.pem')}`));
    const small = await spawnDaemon([`--config.file=${join(dir, 'egress.yml')}`]);
    try {
      const smallBase = `http://127.0.0.1:${small.port}`;
      const silent = matrix.targets.find((t) => t.fault === 'tcp/accept-silent')!.fixture!;
      await scrapeUntil(smallBase, (m) => m.value('egress_probe_success', { host: 'healthy-a.hostile.test', check: 'http', path: 'direct' }) === 1, 30_000);
      expect(await eventually(() => silent.connections() > 0, 10_000)).toBe(true);
      const answers = await Promise.all(
        Array.from({ length: 500 }, async () => {
          const response = await fetch(`${smallBase}/metrics`);
          return { status: response.status, body: await response.text() };
        }),
      );
      expect(answers.filter((a) => a.status !== 200)).toEqual([]);
      for (const a of answers) {
        // Whole expositions: every line parses, and the healthy host is in each.
        const samples = parseExposition(a.body);
        expect(samples.some((s) => s.name === 'egress_probe_success' && s.labels.host === 'healthy-a.hostile.test' && s.value === 1)).toBe(true);
      }
      expect(small.logs()).not.toContain('this is a bug');
    } finally {
      await small.stop();
    }
  });

  it('reloads while rounds run: a good config keeps the healthy results, a broken one changes nothing', async () => {
    const reload = async () => {
      const response = await fetch(`${base}/-/reload`, { method: 'POST' });
      return { status: response.status, body: await response.text() };
    };
    const expected = healthySeries(steady, healthy);
    // In the middle of rounds: a fixture that holds connections for the whole deadline has one open.
    const silent = matrix.targets.find((t) => t.fault === 'tcp/accept-silent')!.fixture!;
    expect(await eventually(() => silent.connections() > 0, 5000)).toBe(true);
    expect(await reload()).toEqual({ status: 200, body: expect.any(String) as string });
    expect(healthySeries(await scrape(base), healthy)).toEqual(expected);

    await writeFile(file(), matrix.yaml({ interval: 'soon' }));
    expect(await eventually(() => silent.connections() > 0, 5000)).toBe(true);
    const broken = await reload();
    expect(broken.status).toBe(500);
    expect(broken.body).toContain('interval: expected a duration like 30s or 1m30s, got "soon"');
    const since = Date.now() / 1000;
    // The old config keeps probing: the healthy hosts stay fresh, the faults keep their reasons.
    const after = await scrapeUntil(base, (s) => healthy.every((e) => (s.value('egress_exporter_round_finished_timestamp_seconds', { host: e.host }) ?? 0) > since), 20_000);
    expect(healthySeries(after, healthy)).toEqual(expected);
    expect(wrongOutcomes(after, matrix.expectations.filter((e) => e.host.startsWith('tls-')))).toEqual([]);
    await writeFile(file(), matrix.yaml());
    expect((await reload()).status).toBe(200);
  });

  it('holds no socket or timer once its checks are gone: a reload to no targets leaves what an idle daemon has', async () => {
    const dir = await tempDir('egress-idle-');
    await writeFile(join(dir, 'egress.yml'), 'catalog: none\n');
    const idle = await spawnDaemon([`--config.file=${join(dir, 'egress.yml')}`]);
    let idleFds: number;
    try {
      await scrape(`http://127.0.0.1:${idle.port}`);
      idleFds = openFds(idle.child.pid!);
    } finally {
      await idle.stop();
    }
    await writeFile(file(), 'catalog: none\n');
    try {
      expect((await fetch(`${base}/-/reload`, { method: 'POST' })).status).toBe(200);
      // The server closes idle keep-alive connections after 5 s; then only this scrape's is left.
      const resources = (m: Scrape): Record<string, number | undefined> => Object.fromEntries(m.find('nodejs_active_resources').map((s) => [s.labels.type ?? '', s.value]));
      const clean = (r: Record<string, number | undefined>) =>
        r.Timeout === undefined && r.TLSWrap === undefined && r.UDPWrap === undefined && (r.TCPSocketWrap ?? 0) <= 1 && openFds(daemon.child.pid!) <= idleFds;
      let r = resources(await scrape(base));
      for (const until = Date.now() + 12_000; !clean(r) && Date.now() < until; ) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        r = resources(await scrape(base));
      }
      expect(clean(r), `resources ${JSON.stringify(r)}, fds ${openFds(daemon.child.pid!)} (an idle daemon: ${idleFds})`).toBe(true);
      const open = matrix.fixtures().filter(({ fixture }) => fixture.connections() > 0).map(({ name, fixture }) => `${name}: ${fixture.connections()}`);
      expect(open).toEqual([]);
    } finally {
      await writeFile(file(), matrix.yaml());
      await fetch(`${base}/-/reload`, { method: 'POST' });
    }
  });

  it('probes a host on demand over all 13 paths while rounds run, without leaking listeners', async () => {
    const response = await fetch(`${base}/probe?target=healthy-a.hostile.test`);
    expect(response.status).toBe(200);
    const text = await response.text();
    const m = new Scrape(parseExposition(text), text);
    expect(m.labelValues('egress_probe_success', 'path', { host: 'healthy-a.hostile.test', check: 'tls' }).sort()).toEqual(matrix.paths.map((p) => p.name).sort());
    expect(m.value('egress_probe_success', { host: 'healthy-a.hostile.test', check: 'http', path: 'direct' })).toBe(1);
    expect(m.value('egress_probe_failure_reason', { host: 'healthy-a.hostile.test', check: 'tls', path: 'close-after-200', reason: 'proxy_closed' })).toBe(1);
    // Warnings go to stderr on a later tick.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(daemon.logs()).not.toContain('MaxListenersExceededWarning');
  });

  it('stops on SIGTERM in the middle of a round: exit 0 within seconds, every log line whole', async () => {
    const silent = matrix.targets.find((t) => t.fault === 'tcp/accept-silent')!.fixture!;
    expect(await eventually(() => silent.connections() > 0, 10_000)).toBe(true);
    const started = Date.now();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      daemon.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    daemon.child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(5000);
    const logs = daemon.logs();
    expect(logs.endsWith('\n')).toBe(true);
    const lines = logs.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.some((l) => l.msg === 'shutting down')).toBe(true);
    expect(lines.filter((l) => String(l.msg).includes('this is a bug'))).toEqual([]);
    expect(logs).not.toContain('MaxListenersExceededWarning');
    // Every connection the daemon had open went with it.
    expect(await eventually(() => matrix.fixtures().every(({ fixture }) => fixture.connections() === 0), 3000)).toBe(true);
  });
}, 240_000);

describe('SIGHUP races', () => {
  it('a SIGHUP as soon as the daemon says it listens reloads it; it does not kill it', async () => {
    const dns = await startDnsServer({ 'a.hup.test': { a: ['127.0.0.1'] } });
    const dir = await tempDir('egress-hup-early-');
    const file = join(dir, 'egress.yml');
    await writeFile(file, `catalog: none\ninterval: 1s\ntimeout: 500ms\ndns: { servers: ["${dns.address.name}"] }\ntargets:\n  - { host: a.hup.test, checks: [dns] }\n`);
    try {
      for (let i = 0; i < 5; i++) {
        const daemon = await spawnDaemon([`--config.file=${file}`]);
        try {
          daemon.child.kill('SIGHUP');
          expect(await eventually(() => daemon.logs().includes('config reloaded') || daemon.child.exitCode !== null || daemon.child.signalCode !== null, 5000)).toBe(true);
          expect({ exitCode: daemon.child.exitCode, signal: daemon.child.signalCode }, `try ${i}`).toEqual({ exitCode: null, signal: null });
          expect(daemon.logs()).toContain('config reloaded');
        } finally {
          await daemon.stop();
        }
      }
    } finally {
      await dns.close();
    }
  }, 60_000);

  it('HUP, write, HUP, 24 times: the file as last written always wins', async () => {
    const hosts = Array.from({ length: 49 }, (_, i) => `v${i}.hup.test`);
    const dns = await startDnsServer(Object.fromEntries(hosts.map((h) => [h, { a: ['127.0.0.1'] }])));
    const dir = await tempDir('egress-hup-race-');
    const file = join(dir, 'egress.yml');
    const config = (host: string) => `catalog: none\ninterval: 1s\ntimeout: 500ms\ndns: { servers: ["${dns.address.name}"] }\ntargets:\n  - { host: ${host}, checks: [dns] }\n`;
    await writeFile(file, config(hosts[0]!));
    const daemon = await spawnDaemon([`--config.file=${file}`]);
    const base = `http://127.0.0.1:${daemon.port}`;
    try {
      for (let i = 1; i <= 24; i++) {
        await writeFile(file, config(hosts[2 * i - 1]!));
        daemon.child.kill('SIGHUP');
        await writeFile(file, config(hosts[2 * i]!));
        daemon.child.kill('SIGHUP');
        const m = await scrapeUntil(base, (s) => s.labelValues('egress_probe_success', 'host').join() === hosts[2 * i], 5000);
        expect(m.labelValues('egress_probe_success', 'host'), `round ${i}`).toEqual([hosts[2 * i]]);
      }
      expect(daemon.logs()).not.toContain('reload failed');
    } finally {
      await daemon.stop();
      await dns.close();
    }
  }, 120_000);
});
