// One round of one target: DNS through every resolver, then over every path
// (direct, or through a proxy) the tcp check, then the tls and http checks.
// Each check waits for a concurrency slot, runs under its own deadline, and is
// recorded as soon as what it needs from the other paths is known.
import net from 'node:net';
import type { Config } from '../config/types.js';
import type { Logger } from '../logging/logger.js';
import type { Recorder } from '../metrics/recorder.js';
import { Allowlist } from '../metrics/allowlist.js';
import { issuerLabel } from '../metrics/recorder.js';
import { directDial } from '../probes/dial.js';
import { probeDns, sinkholePolicy } from '../probes/dns.js';
import type { DnsProbeOptions, DnsResult } from '../probes/dns.js';
import { probeHttp } from '../probes/http.js';
import type { HttpProbeOptions, HttpResult } from '../probes/http.js';
import { proxyDial } from '../probes/proxy.js';
import { probeTcp, probeTcpTunnel } from '../probes/tcp.js';
import type { TcpResult } from '../probes/tcp.js';
import { probeTls } from '../probes/tls.js';
import type { TlsProbeOptions, TlsResult } from '../probes/tls.js';
import type { FailureReason } from '../probes/reasons.js';
import type { Dial, ProbeOutcome } from '../probes/types.js';
import type { CheckName, Family, Target } from '../model/types.js';
import { withDeadline } from './deadline.js';
import { DIRECT_PATH, pathsFor } from './paths.js';
import type { ProbePath } from './paths.js';
import type { ResultStore } from './results.js';
import type { Semaphore } from './semaphore.js';

export { DIRECT_PATH } from './paths.js';

export interface ProbeSet {
  dns: typeof probeDns;
  tcp: typeof probeTcp;
  tcpTunnel: typeof probeTcpTunnel;
  tls: typeof probeTls;
  http: typeof probeHttp;
}

export const DEFAULT_PROBES: ProbeSet = { dns: probeDns, tcp: probeTcp, tcpTunnel: probeTcpTunnel, tls: probeTls, http: probeHttp };

export interface RoundContext {
  config: Config;
  recorder: Recorder;
  results: ResultStore;
  limiter: Semaphore;
  logger: Logger;
  /** Aborts every check at shutdown. */
  signal: AbortSignal;
  probes: ProbeSet;
  /** PEM text of tls.ca_file, read once at start-up. */
  caPem: readonly string[];
  /** Environment for `proxy: env` (HTTPS_PROXY, NO_PROXY). Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** dns.sinkhole_cidrs as a matcher, when set; else each resolver's built-in policy. */
  sinkhole?: (address: string) => boolean;
  /** false: do not log state changes (on-demand probes). Default true. */
  logChanges?: boolean;
  now?: () => number;
}

/** Everything one round found, for /probe?debug=true and the check command. */
export interface RoundReport {
  target: Target;
  startedAtMs: number;
  durationSeconds: number;
  /** Addresses used on the direct path, per family. */
  addresses: Partial<Record<Family, string[]>>;
  dns: DnsResult[];
  paths: PathReport[];
}

export interface PathReport {
  path: ProbePath;
  tcp?: TcpResult;
  tls?: TlsResult;
  http?: HttpResult;
  /** Decided across paths; undefined when there is no certificate. */
  intercepted?: boolean;
  /** Decided across paths; undefined when no HTTP answer came back. */
  downgraded?: boolean;
}

/** dns.sinkhole_cidrs as a matcher; undefined leaves each resolver's built-in policy. */
export function sinkholeFromConfig(config: Config): ((address: string) => boolean) | undefined {
  if (config.dns.sinkholeCidrs === null) return undefined;
  const ranges = new Allowlist(config.dns.sinkholeCidrs);
  return (address) => ranges.contains(address);
}

function resolversOf(config: Config): DnsProbeOptions['resolver'][] {
  return config.dns.servers.length > 0 ? config.dns.servers : ['system'];
}

/** Runs one check in a concurrency slot under the check deadline; never throws. */
async function runCheck<T extends ProbeOutcome>(
  ctx: RoundContext,
  labels: { host: string; check: CheckName; path: string },
  run: (signal: AbortSignal) => Promise<T>,
  onAbandon: (reason: 'timeout' | 'internal_error', message: string) => T,
): Promise<T | undefined> {
  if (!(await ctx.limiter.acquire(ctx.signal))) return undefined; // shutting down
  try {
    const { value } = await withDeadline(run, ctx.config.timeoutMs, ctx.signal, (error) => {
      if (error === undefined) return onAbandon('timeout', `check ignored its ${ctx.config.timeoutMs} ms deadline`);
      ctx.logger.error({ ...labels, err: error }, 'check threw: this is a bug');
      return onAbandon('internal_error', error instanceof Error ? error.message : 'non-Error thrown');
    });
    // A check cut short by shutdown says nothing about the network: drop it.
    if (ctx.signal.aborted) return undefined;
    return value;
  } finally {
    ctx.limiter.release();
  }
}

function logChange(ctx: RoundContext, labels: { host: string; check: CheckName; path: string }, outcome: ProbeOutcome, atMs: number): void {
  const change = ctx.results.put({ ...labels, outcome, atMs });
  if (ctx.logChanges === false) return;
  if (change === undefined) {
    ctx.logger.debug({ ...labels, ok: outcome.ok, reason: outcome.reason, duration_seconds: outcome.durationSeconds }, 'check finished');
    return;
  }
  const from = change.previous ? (change.previous.outcome.ok ? 'up' : `down (${change.previous.outcome.reason})`) : 'unknown';
  if (outcome.ok) ctx.logger.info({ ...labels, from, state: 'up' }, 'check state changed');
  else ctx.logger.warn({ ...labels, from, state: 'down', reason: outcome.reason, detail: outcome.message }, 'check state changed');
}

/** The addresses to connect to: the first resolver with a clean answer wins. */
function addressesFrom(results: readonly DnsResult[]): Partial<Record<Family, string[]>> {
  const addresses: Partial<Record<Family, string[]>> = {};
  for (const result of results) {
    for (const record of result.records) {
      if (record.ok && addresses[record.family] === undefined) addresses[record.family] = record.addresses;
    }
  }
  return addresses;
}


export async function runRound(target: Target, ctx: RoundContext): Promise<RoundReport> {
  const now = ctx.now ?? Date.now;
  const startedAtMs = now();
  const start = process.hrtime.bigint();
  const wants = new Set(target.checks);
  const paths = pathsFor(target, ctx.config, ctx.env);
  const report: RoundReport = { target, startedAtMs, durationSeconds: 0, addresses: {}, dns: [], paths: paths.map((path) => ({ path })) };
  const finish = (): RoundReport => {
    report.durationSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    return report;
  };

  // An IP literal needs no lookup. A name gets one whenever the direct path is
  // probed or the dns check is wanted: through a proxy, the proxy resolves it.
  const literal = net.isIP(target.host);
  const direct = paths.some((p) => p.proxy === null);
  if (literal !== 0) {
    report.addresses = { [literal === 4 ? 'v4' : 'v6']: [target.host] };
  } else if (direct || wants.has('dns')) {
    const dnsResults = await Promise.all(resolversOf(ctx.config).map((resolver) => dnsCheck(target, resolver, wants.has('dns'), ctx)));
    report.dns = dnsResults.filter((r) => r !== undefined);
    report.addresses = addressesFrom(report.dns);
  }
  if (ctx.signal.aborted) return finish();

  await Promise.all(report.paths.map((entry) => runPath(target, entry, report, ctx)));
  if (ctx.signal.aborted) return finish();
  judgeAcrossPaths(target, report);
  const at = now();
  for (const entry of report.paths) {
    const path = entry.path.name;
    if (entry.tls) {
      ctx.recorder.recordTls(target, path, entry.tls, entry.intercepted, at);
      logChange(ctx, { host: target.host, check: 'tls', path }, entry.tls, at);
    }
    if (entry.http) {
      // On the direct path the lookup this round relied on is the request's dns phase.
      const dnsSeconds = entry.path.proxy === null ? report.dns[0]?.records[0]?.durationSeconds : undefined;
      ctx.recorder.recordHttp(target, path, entry.http, { downgraded: entry.downgraded, dnsSeconds }, at);
      logChange(ctx, { host: target.host, check: 'http', path }, entry.http, at);
    }
  }
  return finish();
}

/** tcp, then tls and http side by side, over one path. tcp is recorded at once. */
async function runPath(target: Target, entry: PathReport, report: RoundReport, ctx: RoundContext): Promise<void> {
  const wants = new Set(target.checks);
  const { path } = entry;
  const host = target.host;
  const failed = (reason: 'timeout' | 'internal_error', message: string) => ({ ok: false as const, reason, message, durationSeconds: ctx.config.timeoutMs / 1000 });

  if (wants.has('tcp')) {
    const labels = { host, check: 'tcp' as const, path: path.name };
    entry.tcp = await runCheck<TcpResult>(
      ctx,
      labels,
      (signal) =>
        path.proxy === null
          ? ctx.probes.tcp(target, { addresses: report.addresses }, signal)
          : ctx.probes.tcpTunnel(target, { dial: proxyDial(path.proxy, host, target.port) }, signal),
      (reason, message) => ({ ...failed(reason, message), families: [] }),
    );
    if (entry.tcp) {
      const at = (ctx.now ?? Date.now)();
      ctx.recorder.recordTcp(target, path.name, entry.tcp, at);
      logChange(ctx, labels, entry.tcp, at);
    }
  }
  if (ctx.signal.aborted) return;

  // The dial every tls and http connection of this path uses: each call opens a fresh one.
  let dial: Dial | undefined;
  if (path.proxy !== null) dial = proxyDial(path.proxy, host, target.port);
  else {
    const address = connectAddress(target, report.addresses, entry.tcp);
    if (address !== undefined) dial = directDial(address, target.port);
  }
  // tls and http cannot run without an address, nor after a tcp check that
  // reached nothing (no address accepted a connection, or the proxy refused the
  // tunnel). Then they report the same reason at once instead of waiting out
  // their own deadlines against a blocked path: could not test, not "failed".
  let plan: { dial: Dial } | { skip: { ok: false; reason: FailureReason; message: string; durationSeconds: number } };
  if (dial === undefined) plan = { skip: { ok: false, reason: 'no_addresses', message: 'no addresses to connect to (the DNS check found none)', durationSeconds: 0 } };
  else if (entry.tcp && !entry.tcp.ok && entry.tcp.families.every((f) => f.reachable === 0)) {
    const why = entry.tcp.message ?? entry.tcp.reason ?? 'failed';
    plan = { skip: { ok: false, reason: entry.tcp.reason ?? 'unreachable', message: `not tried: the tcp check reached nothing (${why})`, durationSeconds: 0 } };
  } else plan = { dial };
  const go = plan;

  await Promise.all([
    wants.has('tls')
      ? runCheck<TlsResult>(
          ctx,
          { host, check: 'tls', path: path.name },
          (signal) => ('dial' in go ? ctx.probes.tls(target, tlsOptions(target, ctx, go.dial), signal) : Promise.resolve({ ...go.skip, requirements: [] })),
          (reason, message) => ({ ...failed(reason, message), requirements: [] }),
        ).then((tls) => {
          entry.tls = tls;
        })
      : undefined,
    wants.has('http')
      ? runCheck<HttpResult>(
          ctx,
          { host, check: 'http', path: path.name },
          (signal) =>
            'dial' in go
              ? ctx.probes.http(target, httpOptions(target, ctx, go.dial, path), signal)
              : Promise.resolve({ ...go.skip, alpn: 'none', valid: false, phases: {}, viaProxy: path.proxy !== null }),
          (reason, message) => ({ ...failed(reason, message), alpn: 'none', valid: false, phases: {}, viaProxy: path.proxy !== null }),
        ).then((http) => {
          entry.http = http;
        })
      : undefined,
  ]);
}

/**
 * What one path cannot know alone. Interception: see interceptedOn. A
 * downgrade: HTTP/1.1 where the host is known to speak h2, from the catalog
 * or because another path (or this host's TLS) got h2 this round.
 */
function judgeAcrossPaths(target: Target, report: RoundReport): void {
  const directCert = report.paths.find((p) => p.path.proxy === null)?.tls?.certificate;
  const directIssuer = directCert?.verified ? issuerLabel(directCert.issuerCN, directCert.issuerO) : undefined;
  const speaksH2 =
    target.knownH2 === true || report.paths.some((p) => p.http?.protocol === '2' || p.tls?.handshake?.alpn === 'h2');
  for (const entry of report.paths) {
    if (entry.tls) {
      // Issuers of the verified chains other paths saw: the host's real chain, most likely.
      const verifiedElsewhere = report.paths
        .filter((other) => other !== entry && other.tls?.certificate?.verified === true)
        .map((other) => issuerLabel(other.tls?.certificate?.issuerCN ?? '', other.tls?.certificate?.issuerO ?? ''));
      entry.intercepted = interceptedOn(target, entry.path.name, entry.tls, directIssuer, verifiedElsewhere);
    }
    const protocol = entry.http?.protocol;
    if (protocol !== undefined) entry.downgraded = protocol === '1.1' && speaksH2;
    // The vendor requires h2 end to end and an unbroken chain: a check that worked
    // only at the price of a downgrade or an interception has not passed.
    if (entry.http?.ok === true && entry.downgraded === true) {
      entry.http = { ...entry.http, ok: false, reason: 'http2_downgraded', message: `offered h2, got HTTP/1.1 from ${target.host}, which speaks h2` };
    }
    if (entry.tls?.ok === true && entry.intercepted === true && !entry.path.expectInterception) {
      const issuer = entry.tls.certificate ? issuerLabel(entry.tls.certificate.issuerCN, entry.tls.certificate.issuerO) : 'another CA';
      entry.tls = { ...entry.tls, ok: false, reason: 'tls_intercepted', message: `the chain was re-signed by ${issuer}` };
    }
  }
}

/** The address the handshakes use: the first that accepted a connection, else the first resolved. */
function connectAddress(target: Target, addresses: Partial<Record<Family, string[]>>, tcp: TcpResult | undefined): string | undefined {
  const reachable = tcp?.families.flatMap((f) => f.attempts.filter((a) => a.ok).map((a) => a.address)) ?? [];
  return reachable[0] ?? target.families.map((f) => addresses[f]?.[0]).find((a) => a !== undefined);
}

function tlsOptions(target: Target, ctx: RoundContext, dial: Dial): TlsProbeOptions {
  const options: TlsProbeOptions = { dial, ca: ctx.caPem, handshakeTimeoutMs: Math.min(5000, ctx.config.timeoutMs) };
  if (target.expectedIssuers !== undefined && target.expectedIssuers.length > 0) options.expectedIssuers = target.expectedIssuers;
  return options;
}

function httpOptions(target: Target, ctx: RoundContext, dial: Dial, path: ProbePath): HttpProbeOptions {
  const options: HttpProbeOptions = { dial, ca: ctx.caPem, viaProxy: path.proxy !== null, timeoutMs: ctx.config.timeoutMs };
  if (target.http !== undefined) options.expectation = target.http;
  return options;
}

/**
 * Whether the chain on `path` was re-signed by another CA.
 * - With expected issuers (catalog or config), the probe's verdict stands.
 * - Otherwise the direct path is the reference: never intercepted itself, and
 *   a proxy path whose leaf issuer differs from the direct path's (verified)
 *   one is.
 * - With no direct path: a chain that does not verify, while another path saw
 *   a verified chain from another issuer, is a proxy re-signing with a CA
 *   nobody trusts.
 * - Nothing else to compare with: not intercepted. Trust alone cannot tell a
 *   corporate CA that re-signs from a private CA that signs the host itself
 *   (both only in tls.ca_file); expected_issuers or compare_direct can.
 */
export function interceptedOn(
  target: Target,
  path: string,
  result: TlsResult,
  directIssuer: string | undefined,
  verifiedElsewhere: readonly string[] = [],
): boolean | undefined {
  const cert = result.certificate;
  if (cert === undefined) return undefined;
  if (target.expectedIssuers !== undefined && target.expectedIssuers.length > 0) return cert.intercepted;
  if (path === DIRECT_PATH) return false;
  const issuer = issuerLabel(cert.issuerCN, cert.issuerO);
  if (directIssuer !== undefined) return issuer !== directIssuer;
  return !cert.verified && verifiedElsewhere.some((other) => other !== issuer);
}

async function dnsCheck(target: Target, resolver: DnsProbeOptions['resolver'], report: boolean, ctx: RoundContext): Promise<DnsResult | undefined> {
  const path = resolver === 'system' ? 'system' : resolver.name;
  const labels = { host: target.host, check: 'dns' as const, path };
  const result = await runCheck<DnsResult>(
    ctx,
    labels,
    (signal) => ctx.probes.dns(target, { resolver, sinkhole: ctx.sinkhole ?? sinkholePolicy(resolver) }, signal),
    (reason, message) => ({ ok: false, reason, message, durationSeconds: ctx.config.timeoutMs / 1000, resolver: path, records: [], cnameChain: [] }),
  );
  if (result && report) {
    const at = (ctx.now ?? Date.now)();
    ctx.recorder.recordDns(target, result, at);
    logChange(ctx, labels, result, at);
  }
  return result;
}
