// One round of one target: DNS through every resolver, then TCP to the
// addresses found. Each check waits for a concurrency slot, runs under its own
// deadline, and is recorded the moment it finishes.
import net from 'node:net';
import type { Config } from '../config/types.js';
import type { Logger } from '../logging/logger.js';
import type { Recorder } from '../metrics/recorder.js';
import { probeDns, sinkholePolicy } from '../probes/dns.js';
import type { DnsProbeOptions, DnsResult } from '../probes/dns.js';
import { probeTcp } from '../probes/tcp.js';
import type { TcpResult } from '../probes/tcp.js';
import { directDial } from '../probes/dial.js';
import { probeTls } from '../probes/tls.js';
import type { TlsProbeOptions, TlsResult } from '../probes/tls.js';
import type { CheckName, Dial, Family, ProbeOutcome, Target } from '../probes/types.js';
import { issuerLabel } from '../metrics/recorder.js';
import { withDeadline } from './deadline.js';
import type { ResultStore } from './results.js';
import type { Semaphore } from './semaphore.js';

export interface ProbeSet {
  dns: typeof probeDns;
  tcp: typeof probeTcp;
  tls: typeof probeTls;
}

export const DEFAULT_PROBES: ProbeSet = { dns: probeDns, tcp: probeTcp, tls: probeTls };

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
  now?: () => number;
}

/** The `path` of checks that go straight to the host (proxy paths come later). */
export const DIRECT_PATH = 'direct';

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

/** One way out to the hosts: straight, or through a proxy (later). */
export interface ProbePath {
  name: string;
}

export async function runRound(target: Target, ctx: RoundContext): Promise<void> {
  const now = ctx.now ?? Date.now;
  const wants = new Set(target.checks);

  // An IP literal needs no lookup; a name always gets one, even when the dns
  // check is not reported, because the other checks need its addresses.
  const literal = net.isIP(target.host);
  let addresses: Partial<Record<Family, string[]>>;
  if (literal !== 0) {
    addresses = { [literal === 4 ? 'v4' : 'v6']: [target.host] };
  } else {
    const dnsResults = await Promise.all(resolversOf(ctx.config).map((resolver) => dnsCheck(target, resolver, wants.has('dns'), ctx)));
    addresses = addressesFrom(dnsResults.filter((r) => r !== undefined));
  }
  if (ctx.signal.aborted) return;

  // tcp first: the handshakes that follow go to an address that answered.
  let tcp: TcpResult | undefined;
  if (wants.has('tcp')) {
    const labels = { host: target.host, check: 'tcp' as const, path: DIRECT_PATH };
    tcp = await runCheck<TcpResult>(
      ctx,
      labels,
      (signal) => ctx.probes.tcp(target, { addresses }, signal),
      (reason, message) => ({ ok: false, reason, message, durationSeconds: ctx.config.timeoutMs / 1000, families: [] }),
    );
    if (tcp) {
      const at = now();
      ctx.recorder.recordTcp(target, DIRECT_PATH, tcp, at);
      logChange(ctx, labels, tcp, at);
    }
  }
  if (ctx.signal.aborted) return;

  if (wants.has('tls')) {
    const address = connectAddress(target, addresses, tcp);
    const labels = { host: target.host, check: 'tls' as const, path: DIRECT_PATH };
    const tls = await runCheck<TlsResult>(
      ctx,
      labels,
      (signal) =>
        address === undefined
          ? Promise.resolve(noAddressTls())
          : ctx.probes.tls(target, tlsOptions(target, ctx, directDial(address, target.port)), signal),
      (reason, message) => ({ ok: false, reason, message, durationSeconds: ctx.config.timeoutMs / 1000, requirements: [] }),
    );
    if (tls) {
      const at = now();
      ctx.recorder.recordTls(target, DIRECT_PATH, tls, interceptedOn(target, DIRECT_PATH, tls, undefined), at);
      logChange(ctx, labels, tls, at);
    }
  }
}

/** The address the handshakes use: the first that accepted a connection, else the first resolved. */
function connectAddress(target: Target, addresses: Partial<Record<Family, string[]>>, tcp: TcpResult | undefined): string | undefined {
  const reachable = tcp?.families.flatMap((f) => f.attempts.filter((a) => a.ok).map((a) => a.address)) ?? [];
  return reachable[0] ?? target.families.map((f) => addresses[f]?.[0]).find((a) => a !== undefined);
}

function noAddressTls(): TlsResult {
  return { ok: false, reason: 'no_addresses', message: 'no addresses to connect to (the DNS check found none)', durationSeconds: 0, requirements: [] };
}

function tlsOptions(target: Target, ctx: RoundContext, dial: Dial): TlsProbeOptions {
  const options: TlsProbeOptions = { dial, ca: ctx.caPem, handshakeTimeoutMs: Math.min(5000, ctx.config.timeoutMs) };
  if (target.expectedIssuers !== undefined && target.expectedIssuers.length > 0) options.expectedIssuers = target.expectedIssuers;
  return options;
}

/**
 * Whether the chain on `path` was re-signed by another CA. With expected
 * issuers (catalog or config), the probe's verdict stands. Otherwise the
 * direct path is the reference: never intercepted itself, and a proxy path
 * whose leaf issuer differs from the direct path's is. With no direct path to
 * compare, a proxy path counts as intercepted when only tls.ca_file vouches
 * for its chain (the probe's own rule).
 */
export function interceptedOn(target: Target, path: string, result: TlsResult, directIssuer: string | undefined): boolean | undefined {
  const cert = result.certificate;
  if (cert === undefined) return undefined;
  if (target.expectedIssuers !== undefined && target.expectedIssuers.length > 0) return cert.intercepted;
  if (path === DIRECT_PATH) return false;
  if (directIssuer !== undefined) return issuerLabel(cert.issuerCN, cert.issuerO) !== directIssuer;
  return cert.intercepted;
}

async function dnsCheck(target: Target, resolver: DnsProbeOptions['resolver'], report: boolean, ctx: RoundContext): Promise<DnsResult | undefined> {
  const path = resolver === 'system' ? 'system' : resolver.name;
  const labels = { host: target.host, check: 'dns' as const, path };
  const result = await runCheck<DnsResult>(
    ctx,
    labels,
    (signal) => ctx.probes.dns(target, { resolver, sinkhole: sinkholePolicy(resolver) }, signal),
    (reason, message) => ({ ok: false, reason, message, durationSeconds: ctx.config.timeoutMs / 1000, resolver: path, records: [], cnameChain: [] }),
  );
  if (result && report) {
    const at = (ctx.now ?? Date.now)();
    ctx.recorder.recordDns(target, result, at);
    logChange(ctx, labels, result, at);
  }
  return result;
}
