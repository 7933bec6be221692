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
import type { CheckName, Family, ProbeOutcome, Target } from '../probes/types.js';
import { withDeadline } from './deadline.js';
import type { ResultStore } from './results.js';
import type { Semaphore } from './semaphore.js';

export interface ProbeSet {
  dns: typeof probeDns;
  tcp: typeof probeTcp;
}

export const DEFAULT_PROBES: ProbeSet = { dns: probeDns, tcp: probeTcp };

export interface RoundContext {
  config: Config;
  recorder: Recorder;
  results: ResultStore;
  limiter: Semaphore;
  logger: Logger;
  /** Aborts every check at shutdown. */
  signal: AbortSignal;
  probes: ProbeSet;
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

  if (wants.has('tcp')) {
    const labels = { host: target.host, check: 'tcp' as const, path: DIRECT_PATH };
    const result = await runCheck<TcpResult>(
      ctx,
      labels,
      (signal) => ctx.probes.tcp(target, { addresses }, signal),
      (reason, message) => ({ ok: false, reason, message, durationSeconds: ctx.config.timeoutMs / 1000, families: [] }),
    );
    if (result) {
      const at = now();
      ctx.recorder.recordTcp(target, DIRECT_PATH, result, at);
      logChange(ctx, labels, result, at);
    }
  }
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
