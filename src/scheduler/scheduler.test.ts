import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { createLogger } from '../logging/logger.js';
import { MetricsView } from '../metrics/view.js';
import type { DnsResult } from '../probes/net/dns.js';
import type { TcpResult } from '../probes/net/tcp.js';
import type { Target } from '../model/types.js';
import { Scheduler, spreadMs } from './scheduler.js';
import { cronPeriodMs } from '../config/cron-period.js';
import { hostPhase, nextSlotMs } from '../async/slots.js';
import { ResultStore } from '../state/result-store.js';
import type { ProbeSet } from '../checks/context.js';
import { rootCertificates } from 'node:tls';
import { Writable } from 'node:stream';

const silent = createLogger('error', 'json', new Writable({ write: (_c, _e, done) => done() }));

const target = (host: string): Target => ({ host, port: 443, families: ['v4'], checks: ['dns', 'tcp'], labels: {}, purpose: '', source: 'test' });

function harness(config: Partial<Config>, probes: Pick<ProbeSet, 'dns' | 'tcp'>, targets: Target[], logger = silent) {
  const full: Config = { ...defaultConfig(), dns: { ...defaultConfig().dns, servers: [{ name: '127.0.0.1:53', ip: '127.0.0.1', port: 53 }] }, ...config };
  const results = new ResultStore();
  results.setTargets(targets);
  const view = new MetricsView(results, full, new client.Registry());
  const scheduler = new Scheduler({
    targets,
    results,
    setup: { config: full, trust: { caPem: [], publicRoots: rootCertificates }, logger, probes },
  });
  return { scheduler, metrics: () => view.text() };
}

const dnsOk = (resolver: string): DnsResult => ({
  ok: true,
  durationSeconds: 0.001,
  resolver,
  cnameChain: [],
  records: [{ type: 'A', family: 'v4', ok: true, addresses: ['127.0.0.1'], ttl: 60, durationSeconds: 0.001 }],
});
const tcpOk: TcpResult = { ok: true, durationSeconds: 0.001, families: [{ family: 'v4', probed: 1, reachable: 1, attempts: [] }] };

/** egress_exporter_round_overruns_total of one host, from the exposition. */
function overrunsOf(text: string, host: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`egress_exporter_round_overruns_total{host="${host}"}`));
  return Number(line?.split(' ')[1] ?? 0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A logger at `level` whose JSON lines land in `lines`. */
function capturing(level: 'debug' | 'info') {
  const lines: Array<Record<string, unknown>> = [];
  const out = new Writable({
    write: (chunk: Buffer, _e, done) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger(level, 'json', out), lines };
}

/** A host whose slot comes in the first `fraction` of any window (hostPhase is a stable hash). */
function earlyHost(fraction: number): string {
  for (let i = 0; ; i += 1) if (hostPhase(`early${i}.test:443`) < fraction) return `early${i}.test`;
}

describe('Scheduler', () => {
  it('gives every target a stable slot spread over the whole interval', () => {
    expect(nextSlotMs(0, 60_000, 0.25)).toBe(15_000);
    expect(nextSlotMs(15_000, 60_000, 0.25)).toBe(75_000);
    expect(nextSlotMs(74_999, 60_000, 0.25)).toBe(75_000);
    // 1,000 targets: every tenth of the interval holds about a tenth of the round starts.
    const tenths = new Array<number>(10).fill(0);
    for (let i = 0; i < 1000; i += 1) {
      const slot = nextSlotMs(0, 60_000, hostPhase(`host${i}.bench.test:443`)) % 60_000;
      tenths[Math.floor(slot / 6000)]! += 1;
    }
    for (const count of tenths) expect(count).toBeGreaterThan(60);
    expect(hostPhase('cgr.dev:443')).not.toBe(hostPhase('cgr.dev:8443'));
  });

  it('spreads hosts over a stable offset window', () => {
    expect(hostPhase('cgr.dev')).toBe(hostPhase('cgr.dev'));
    expect(hostPhase('cgr.dev')).not.toBe(hostPhase('apk.cgr.dev'));
    expect(spreadMs(30_000, 13)).toBe(5000);
    expect(spreadMs(2000, 13)).toBe(1000);
    // A thousand first rounds (each every TLS requirement) get 30 s, or half the interval.
    expect(spreadMs(120_000, 1000)).toBe(30_000);
    expect(spreadMs(30_000, 1000)).toBe(15_000);
  });

  it('never overlaps a target with its previous round, and counts the skipped slots', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const probes: Pick<ProbeSet, 'dns' | 'tcp'> = {
      dns: async (_t, options, signal) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        runs += 1;
        // Slower than the interval, but within the deadline.
        await sleep(signal.aborted ? 0 : 450);
        active -= 1;
        return dnsOk(options.resolver === 'system' ? 'system' : options.resolver.name);
      },
      tcp: () => Promise.resolve(tcpOk),
    };
    const { scheduler, metrics } = harness({ intervalMs: 200, timeoutMs: 1000 }, probes, [target('a.test')]);
    scheduler.start();
    await sleep(1400);
    await scheduler.stop();
    expect(maxActive).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(overrunsOf(await metrics(), 'a.test')).toBeGreaterThanOrEqual(2);
  });

  it('runs rounds on a cron schedule, spread and never overlapping', async () => {
    expect(cronPeriodMs('* * * * * *')).toBe(1000);
    expect(cronPeriodMs('*/5 * * * *')).toBe(300_000);
    const starts: number[] = [];
    let active = 0;
    let maxActive = 0;
    const probes: Pick<ProbeSet, 'dns' | 'tcp'> = {
      dns: async (_t, options) => {
        starts.push(Date.now());
        active += 1;
        maxActive = Math.max(maxActive, active);
        await sleep(1200); // longer than the schedule's period
        active -= 1;
        return dnsOk(options.resolver === 'system' ? 'system' : options.resolver.name);
      },
      tcp: () => Promise.resolve(tcpOk),
    };
    const { scheduler, metrics } = harness({ schedule: '* * * * * *', timeoutMs: 1500 }, probes, [target('cron.test')]);
    scheduler.start();
    await sleep(3500);
    await scheduler.stop();
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(maxActive).toBe(1);
    expect(overrunsOf(await metrics(), 'cron.test')).toBeGreaterThanOrEqual(1);
  });

  it('with a cron schedule, runs the first round early instead of at the first tick (readiness)', async () => {
    // */5: the first tick may be five minutes away. The first round spreads over 5 s like
    // interval mode's, and this host's slot is in the first 2% of that.
    const host = earlyHost(0.02);
    const probes: Pick<ProbeSet, 'dns' | 'tcp'> = { dns: (_t, options) => Promise.resolve(dnsOk(options.resolver === 'system' ? 'system' : options.resolver.name)), tcp: () => Promise.resolve(tcpOk) };
    const { scheduler } = harness({ schedule: '*/5 * * * *' }, probes, [target(host)]);
    scheduler.start();
    const outcome = await Promise.race([scheduler.firstRound.then(() => 'ready'), sleep(4000).then(() => 'still waiting')]);
    await scheduler.stop();
    expect(outcome).toBe('ready');
    expect(scheduler.ready).toBe(true);
  });

  it('logs every check at debug (host, port, check, path or resolver, duration, result, reason), and the round\'s start and end', async () => {
    const { logger, lines } = capturing('debug');
    const probes: Pick<ProbeSet, 'dns' | 'tcp'> = {
      dns: (_t, options) => Promise.resolve(dnsOk(options.resolver === 'system' ? 'system' : options.resolver.name)),
      tcp: () => Promise.resolve({ ok: false, reason: 'refused', message: 'connect ECONNREFUSED 127.0.0.1:443', durationSeconds: 0.002, families: [] }),
    };
    const { scheduler } = harness({}, probes, [target('debug.test')], logger);
    await scheduler.runOnce();
    const byMsg = (msg: string) => lines.filter((l) => l.msg === msg);
    expect(byMsg('round started')).toEqual([expect.objectContaining({ level: 'debug', host: 'debug.test', port: 443 })]);
    expect(byMsg('check finished')).toEqual([
      expect.objectContaining({ level: 'debug', host: 'debug.test', port: 443, check: 'dns', resolver: '127.0.0.1:53', duration_seconds: 0.001, result: 'ok' }),
      expect.objectContaining({ level: 'debug', host: 'debug.test', port: 443, check: 'tcp', path: 'direct', duration_seconds: 0.002, result: 'failed', reason: 'refused', detail: 'connect ECONNREFUSED 127.0.0.1:443' }),
    ]);
    expect(byMsg('check finished')[0]).not.toHaveProperty('reason');
    expect(byMsg('round finished')).toEqual([expect.objectContaining({ level: 'debug', host: 'debug.test', port: 443, ok: false, failed_checks: 1 })]);
  });

  it('does no debug work above the debug level', async () => {
    const { logger, lines } = capturing('info');
    let debugCalls = 0;
    logger.debug = () => void (debugCalls += 1);
    const probes: Pick<ProbeSet, 'dns' | 'tcp'> = { dns: (_t, options) => Promise.resolve(dnsOk(options.resolver === 'system' ? 'system' : options.resolver.name)), tcp: () => Promise.resolve(tcpOk) };
    const { scheduler } = harness({}, probes, [target('quiet.test')], logger);
    await scheduler.runOnce();
    expect(debugCalls).toBe(0);
    // info still logs the first state of each check.
    expect(lines.map((l) => l.msg)).toEqual(['check state changed', 'check state changed']);
  });

  it('bounds concurrency across targets', async () => {
    let active = 0;
    let maxActive = 0;
    const probes: Pick<ProbeSet, 'dns' | 'tcp'> = {
      dns: async (_t, options) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await sleep(30);
        active -= 1;
        return dnsOk(options.resolver === 'system' ? 'system' : options.resolver.name);
      },
      tcp: () => Promise.resolve(tcpOk),
    };
    const targets = Array.from({ length: 12 }, (_, i) => target(`h${i}.test`));
    const { scheduler } = harness({ concurrency: 3 }, probes, targets);
    await scheduler.runOnce();
    expect(maxActive).toBe(3);
    expect(scheduler.ready).toBe(true);
  });

  it('settles a probe that ignores its deadline, as a timeout', async () => {
    const probes: Pick<ProbeSet, 'dns' | 'tcp'> = {
      dns: () => new Promise<DnsResult>(() => undefined), // never settles: a bug
      tcp: () => Promise.resolve(tcpOk),
    };
    const { scheduler, metrics } = harness({ timeoutMs: 100 }, probes, [target('hang.test')]);
    const started = Date.now();
    await scheduler.runOnce();
    expect(Date.now() - started).toBeLessThan(3000);
    const text = await metrics();
    expect(text).toContain('egress_probe_failure_reason{host="hang.test",check="dns",resolver="127.0.0.1:53",reason="timeout"} 1');
  });

  it('reports a probe that throws as internal_error instead of crashing', async () => {
    const probes: Pick<ProbeSet, 'dns' | 'tcp'> = {
      dns: () => Promise.reject(new Error('boom')),
      tcp: () => Promise.resolve(tcpOk),
    };
    const { scheduler, metrics } = harness({}, probes, [target('bug.test')]);
    await scheduler.runOnce();
    expect(await metrics()).toContain('egress_probe_failure_reason{host="bug.test",check="dns",resolver="127.0.0.1:53",reason="internal_error"} 1');
  });

  it('aborts in-flight checks at stop and records nothing from them', async () => {
    let sawAbort = false;
    const probes: Pick<ProbeSet, 'dns' | 'tcp'> = {
      dns: (_t, _options, signal) =>
        new Promise<DnsResult>((resolve) => {
          signal.addEventListener('abort', () => {
            sawAbort = true;
            resolve({ ...dnsOk('x'), ok: false, reason: 'timeout', records: [] });
          });
        }),
      tcp: () => Promise.resolve(tcpOk),
    };
    const { scheduler, metrics } = harness({ intervalMs: 10_000, timeoutMs: 5000 }, probes, [target('slow.test')]);
    scheduler.start();
    await sleep(50 + spreadMs(10_000, 1) * hostPhase('slow.test:443'));
    const started = Date.now();
    await scheduler.stop();
    expect(Date.now() - started).toBeLessThan(500);
    expect(sawAbort).toBe(true);
    expect(await metrics()).not.toContain('host="slow.test",check="dns"');
  });
});
