// One round of one target: DNS through every resolver, then over every path
// (direct, or through a proxy) the tcp check, then the http, tls and registry checks.
// The tls check judges the http check's handshake as its default one (one handshake for both).
// Each check waits for a concurrency slot and runs under its own deadline. The
// round returns its report judged across paths; it records nothing itself.
import net from 'node:net';
import type { Config } from '../config/types.js';
import type { Logger } from '../logging/logger.js';
import { Allowlist } from '../metrics/allowlist.js';
import type { CheckName, Family, Target } from '../model/types.js';
import { loadRegistryCredentials } from '../config/registry-credentials.js';
import type { RegistryPull } from '../model/types.js';
import { secondsSince } from '../probes/clock.js';
import { directDial, resolvingDial } from '../probes/dial.js';
import type { ResolvingDialOptions } from '../probes/dial.js';
import { envProxyFor } from '../probes/no-proxy.js';
import { probeRegistry, registryName } from '../probes/registry.js';
import type { RegistryProbeOptions, RegistryResult } from '../probes/registry.js';
import { probeDns, sinkholePolicy } from '../probes/dns.js';
import type { DnsProbeOptions, DnsResult } from '../probes/dns.js';
import { probeHttp } from '../probes/http.js';
import type { HttpProbeOptions, HttpResult } from '../probes/http.js';
import { proxyDial } from '../probes/proxy.js';
import { probeTcp, probeTcpTunnel } from '../probes/tcp.js';
import type { TcpResult } from '../probes/tcp.js';
import { issuerLabel } from '../probes/tls-certs.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, SharedDefaultHandshake, probeTls, withRequirements } from '../probes/tls.js';
import type { TlsProbeOptions, TlsRequirement, TlsResult } from '../probes/tls.js';
import type { FailureReason } from '../probes/reasons.js';
import type { Dial, ProbeOutcome } from '../probes/types.js';
import { withDeadline } from './deadline.js';
import { judgeAcrossPaths } from './judge.js';
import { PROXY_PATH, pathsFor } from './paths.js';
import type { ProbePath } from './paths.js';
import type { PathReport, RoundReport } from './report.js';
import { targetKey } from './report.js';
import { hostPhase, slotAfterMs } from './slots.js';
import type { Semaphore } from './semaphore.js';

export type { PathReport, RoundReport } from './report.js';

export interface ProbeSet {
  registry: typeof probeRegistry;
  dns: typeof probeDns;
  tcp: typeof probeTcp;
  tcpTunnel: typeof probeTcpTunnel;
  tls: typeof probeTls;
  http: typeof probeHttp;
}

export const DEFAULT_PROBES: ProbeSet = { registry: probeRegistry, dns: probeDns, tcp: probeTcp, tcpTunnel: probeTcpTunnel, tls: probeTls, http: probeHttp };

export interface RoundContext {
  config: Config;
  limiter: Semaphore;
  logger: Logger;
  /** Aborts every check at shutdown. */
  signal: AbortSignal;
  probes: ProbeSet;
  /** PEM text of tls.ca_file, read once at start-up. */
  caPem: readonly string[];
  /** The roots that count as public: the system's plus tls.public_ca_file (readPublicRoots). Default the system's. */
  publicRoots?: readonly string[];
  /** Environment for `proxy: env` (HTTPS_PROXY, NO_PROXY). Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** dns.sinkhole_cidrs as a matcher, when set; else each resolver's built-in policy. */
  sinkhole?: (address: string) => boolean;
  /** The target's latest judged round: its TLS requirement verdicts carry over until due. Absent: every requirement runs. */
  previous?: (target: Target) => RoundReport | undefined;
  now?: () => number;
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
  const report: RoundReport = { target, startedAtMs, finishedAtMs: startedAtMs, durationSeconds: 0, addresses: {}, dns: [], paths: paths.map((path) => ({ path })) };
  const finish = (): RoundReport => {
    report.durationSeconds = secondsSince(start);
    report.finishedAtMs = now();
    return report;
  };

  // An IP literal needs no lookup. A name gets one whenever the direct path is
  // probed or the dns check is wanted: through a proxy, the proxy resolves it.
  const literal = net.isIP(target.host);
  const direct = paths.some((p) => p.proxy === null);
  if (literal !== 0) {
    report.addresses = { [literal === 4 ? 'v4' : 'v6']: [target.host] };
  } else if (direct || wants.has('dns')) {
    const dnsResults = await Promise.all(resolversOf(ctx.config).map((resolver) => dnsCheck(target, resolver, ctx)));
    report.dns = dnsResults.filter((r) => r !== undefined);
    report.addresses = addressesFrom(report.dns);
  }
  if (ctx.signal.aborted) return finish();

  const previous = ctx.previous?.(target);
  await Promise.all(report.paths.map((entry) => runPath(target, entry, report, ctx, previous?.paths.find((p) => p.path.name === entry.path.name))));
  if (ctx.signal.aborted) return finish();
  judgeAcrossPaths(report);
  return finish();
}

/** How a path's tls and http checks go: over a dial, or skipped with a reason the tcp check gave. */
type Plan = { dial: Dial } | { skip: { ok: false; reason: FailureReason; message: string; durationSeconds: number } };

/** tcp, then http, then tls, then the registry pull, over one path. */
async function runPath(target: Target, entry: PathReport, report: RoundReport, ctx: RoundContext, previous: PathReport | undefined): Promise<void> {
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
  let plan: Plan;
  if (dial === undefined) plan = { skip: { ok: false, reason: 'no_addresses', message: 'no addresses to connect to (the DNS check found none)', durationSeconds: 0 } };
  else if (entry.tcp && !entry.tcp.ok && entry.tcp.families.every((f) => f.reachable === 0)) {
    const why = entry.tcp.message ?? entry.tcp.reason ?? 'failed';
    plan = { skip: { ok: false, reason: entry.tcp.reason ?? 'unreachable', message: `not tried: the tcp check reached nothing (${why})`, durationSeconds: 0 } };
  } else plan = { dial };
  const go = plan;

  // One after the other, not side by side: a server or proxy that serves few connections at
  // once (openssl s_server -www serves one) must not see the http request starve the
  // handshakes of their deadlines. http first: when a TLS-inspecting proxy answers for the
  // host itself (its error page inside the bumped tunnel), the tls check has nothing of
  // the host's to judge, and is not left to time out against a slow proxy.
  // And one handshake for both: the tls check judges the http check's as its default one.
  const shared = wants.has('tls') && wants.has('http') && 'dial' in go ? new SharedDefaultHandshake(target, tlsOptions(target, ctx, go.dial)) : undefined;
  if (wants.has('http')) {
    entry.http = await runCheck<HttpResult>(
      ctx,
      { host, check: 'http', path: path.name },
      (signal) =>
        'dial' in go
          ? ctx.probes.http(target, httpOptions(target, ctx, go.dial, path, shared), signal)
          : Promise.resolve({ ...go.skip, alpn: 'none', valid: false, phases: {}, viaProxy: path.proxy !== null }),
      (reason, message) => ({ ...failed(reason, message), alpn: 'none', valid: false, phases: {}, viaProxy: path.proxy !== null }),
    );
  }
  if (ctx.signal.aborted) return;
  const http = entry.http;
  const tlsPlan: Plan =
    http?.answeredByProxy === true && !http.ok && http.reason !== undefined
      ? { skip: { ok: false, reason: http.reason, message: `not tried: the proxy answered for the host itself (${http.message ?? http.reason}); the TLS it offers on this path is its own`, durationSeconds: 0 } }
      : go;
  if (wants.has('tls')) await tlsCheck(target, entry, ctx, tlsPlan, previous, shared);
  // After tls and http, likewise.
  if (target.registry !== undefined && !ctx.signal.aborted) entry.registry = await registryCheck(target, target.registry, path, ctx, go);
}

/**
 * The pull path on one path: every host the registry sends the pull to (token
 * realm, blob host) gets its own connection on that path: its own lookup and
 * TCP directly, its own CONNECT through a proxy (per host under NO_PROXY).
 */
async function registryCheck(target: Target, pull: RegistryPull, path: ProbePath, ctx: RoundContext, go: Plan): Promise<RegistryResult | undefined> {
  const name = registryName(target.host, target.port);
  const failed = (reason: FailureReason, message: string, durationSeconds: number): RegistryResult => ({
    ok: false,
    reason,
    message,
    durationSeconds,
    registry: name,
    failedStep: 'ping',
    steps: {},
    transcript: [],
  });
  const resolver = resolversOf(ctx.config)[0] ?? 'system';
  const direct = (host: string, port: number): Dial => {
    if ('dial' in go && path.proxy === null && host === target.host && port === target.port) return go.dial;
    const options: ResolvingDialOptions = { resolver };
    if (ctx.sinkhole !== undefined) options.sinkhole = ctx.sinkhole;
    return resolvingDial(host, port, options);
  };
  const proxy = path.proxy;
  const envProxied = proxy !== null && ctx.config.proxies.length === 0 && ctx.config.proxy === 'env';
  const dialFor = (host: string, port: number): Dial => {
    if (proxy === null) return direct(host, port);
    if (!envProxied) return proxyDial(proxy, host, port);
    const spec = envProxyFor(host, ctx.env ?? process.env, PROXY_PATH);
    return spec === null ? direct(host, port) : proxyDial(spec, host, port);
  };
  return runCheck<RegistryResult>(
    ctx,
    { host: target.host, check: 'registry', path: path.name },
    async (signal) => {
      if ('skip' in go) return failed(go.skip.reason, go.skip.message, 0);
      const credentials = await loadRegistryCredentials({ host: target.host, port: target.port, credentials: pull.credentials, dockerConfig: pull.dockerConfig }, { env: ctx.env ?? process.env });
      const options: RegistryProbeOptions = { dialFor, viaProxy: proxy !== null, ca: ctx.caPem, timeoutMs: ctx.config.timeoutMs };
      if (credentials !== undefined) options.credentials = credentials;
      if (ctx.publicRoots !== undefined) options.systemRoots = ctx.publicRoots;
      return ctx.probes.registry({ host: target.host, port: target.port, repository: pull.repository, reference: pull.reference, platform: pull.platform }, options, signal);
    },
    (reason, message) => failed(reason, message, ctx.config.timeoutMs / 1000),
  );
}

/** The address the handshakes use: the first that accepted a connection, else the first resolved. */
function connectAddress(target: Target, addresses: Partial<Record<Family, string[]>>, tcp: TcpResult | undefined): string | undefined {
  const reachable = tcp?.families.flatMap((f) => f.attempts.filter((a) => a.ok).map((a) => a.address)) ?? [];
  return reachable[0] ?? target.families.map((f) => addresses[f]?.[0]).find((a) => a !== undefined);
}

function tlsOptions(target: Target, ctx: RoundContext, dial: Dial): TlsProbeOptions {
  const options: TlsProbeOptions = { dial, ca: ctx.caPem, handshakeTimeoutMs: Math.min(DEFAULT_HANDSHAKE_TIMEOUT_MS, ctx.config.timeoutMs) };
  if (ctx.publicRoots !== undefined) options.systemRoots = ctx.publicRoots;
  if (target.expectedIssuers !== undefined && target.expectedIssuers.length > 0) options.expectedIssuers = target.expectedIssuers;
  return options;
}

function httpOptions(target: Target, ctx: RoundContext, dial: Dial, path: ProbePath, shared: SharedDefaultHandshake | undefined): HttpProbeOptions {
  const options: HttpProbeOptions = { dial, ca: ctx.caPem, viaProxy: path.proxy !== null, timeoutMs: ctx.config.timeoutMs };
  if (shared !== undefined) options.onHandshake = shared.witness;
  if (ctx.publicRoots !== undefined) options.systemRoots = ctx.publicRoots;
  if (target.http !== undefined) options.expectation = target.http;
  return options;
}

async function dnsCheck(target: Target, resolver: DnsProbeOptions['resolver'], ctx: RoundContext): Promise<DnsResult | undefined> {
  const path = resolver === 'system' ? 'system' : resolver.name;
  return runCheck<DnsResult>(
    ctx,
    { host: target.host, check: 'dns', path },
    (signal) => ctx.probes.dns(target, { resolver, sinkhole: ctx.sinkhole ?? sinkholePolicy(resolver) }, signal),
    (reason, message) => ({ ok: false, reason, message, durationSeconds: ctx.config.timeoutMs / 1000, resolver: path, records: [], cnameChain: [] }),
  );
}

/**
 * The default handshake runs every round; the requirement handshakes only when
 * due: every tls.requirements_interval, when the last run left one untested,
 * and at once when the default handshake's facts (version, cipher, group,
 * ALPN, issuer) moved since they were judged. In between, the verdicts carry over.
 */
async function tlsCheck(target: Target, entry: PathReport, ctx: RoundContext, go: Plan, previous: PathReport | undefined, shared: SharedDefaultHandshake | undefined): Promise<void> {
  const labels = { host: target.host, check: 'tls' as const, path: entry.path.name };
  const abandoned = (reason: 'timeout' | 'internal_error', message: string): TlsResult => ({
    ok: false,
    reason,
    message,
    durationSeconds: ctx.config.timeoutMs / 1000,
    requirements: [],
  });
  const run = (requirements: readonly TlsRequirement[] | undefined) =>
    runCheck<TlsResult>(
      ctx,
      labels,
      (signal) => {
        if (!('dial' in go)) return Promise.resolve({ ...go.skip, requirements: [] });
        const options = tlsOptions(target, ctx, go.dial);
        if (requirements !== undefined) options.requirements = requirements;
        if (shared !== undefined) options.shared = shared;
        return ctx.probes.tls(target, options, signal);
      },
      abandoned,
    );
  const now = ctx.now ?? Date.now;
  const carried = previous?.tls?.requirements ?? [];
  const due =
    previous?.requirementsAtMs === undefined ||
    carried.length === 0 ||
    carried.some((r) => r.verdict === 'untested') ||
    // In the target's slot of the interval: every first round runs them within seconds of
    // the others, and they would all come due again together.
    now() >= slotAfterMs(previous.requirementsAtMs, ctx.config.tls.requirementsIntervalMs, hostPhase(targetKey(target)));
  if (!due) {
    const quick = await run([]);
    if (quick === undefined) return;
    const basis = handshakeBasis(quick);
    if (basis === undefined || basis === previous.requirementsBasis) {
      // Same handshake as when judged (or none at all: nothing to carry onto).
      entry.tls = basis === undefined ? quick : withRequirements(quick, carried);
      if (basis !== undefined) {
        entry.requirementsAtMs = previous.requirementsAtMs;
        entry.requirementsBasis = basis;
      }
      return;
    }
  }
  const full = await run(undefined);
  if (full === undefined) return;
  entry.tls = full;
  const basis = handshakeBasis(full);
  if (basis !== undefined && full.requirements.length > 0) {
    entry.requirementsAtMs = now();
    entry.requirementsBasis = basis;
  }
}

/** What the requirement verdicts were judged against; undefined without a default handshake. */
function handshakeBasis(result: TlsResult): string | undefined {
  const hs = result.handshake;
  if (hs === undefined) return undefined;
  const issuer = result.certificate ? issuerLabel(result.certificate.issuerCN, result.certificate.issuerO) : '';
  return [hs.version, hs.cipher, hs.group, hs.alpn, issuer].join('|');
}
