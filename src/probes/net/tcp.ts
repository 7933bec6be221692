// TCP check: connect to every resolved address (up to a cap per family) and
// time each connect. A stale IP-based firewall rule shows as one address of
// several refusing or timing out, which a single connect would hide.
import { connectTcp } from './dial.js';
import type { FailureReason } from '../reasons.js';
import type { Dial, ProbeOutcome } from '../types.js';
import type { Family, Target } from '../../model/types.js';
import { secondsSince } from '../../async/clock.js';

export interface TcpProbeOptions {
  /** Addresses from the DNS check, per family. */
  addresses: Partial<Record<Family, readonly string[]>>;
  /** At most this many addresses of one family are probed. */
  maxPerFamily?: number;
}

export interface TcpAttempt extends Omit<ProbeOutcome, 'durationSeconds'> {
  address: string;
  family: Family;
  connectSeconds: number;
}

export interface TcpFamilyResult {
  family: Family;
  probed: number;
  reachable: number;
  attempts: TcpAttempt[];
}

export interface TcpResult extends ProbeOutcome {
  families: TcpFamilyResult[];
  /** On a proxy path: CONNECT sent -> 200. */
  proxyConnectSeconds?: number;
}

export const DEFAULT_MAX_ADDRESSES_PER_FAMILY = 16;

/** The most frequent reason among failed attempts; ties go to the first seen. */
function dominantReason(attempts: readonly TcpAttempt[]): FailureReason {
  const counts = new Map<FailureReason, number>();
  for (const attempt of attempts) if (attempt.reason) counts.set(attempt.reason, (counts.get(attempt.reason) ?? 0) + 1);
  let best: FailureReason = 'unreachable';
  let bestCount = 0;
  for (const [reason, count] of counts) if (count > bestCount) [best, bestCount] = [reason, count];
  return best;
}

/**
 * Succeeds when every family of the target that has addresses has at least one
 * reachable address. Partial reachability is reported through the counts, not
 * as a failure: a client still gets through, but an alert can tell.
 */
export async function probeTcp(target: Target, options: TcpProbeOptions, signal: AbortSignal): Promise<TcpResult> {
  const start = process.hrtime.bigint();
  const cap = options.maxPerFamily ?? DEFAULT_MAX_ADDRESSES_PER_FAMILY;
  const families = await Promise.all(
    target.families.map(async (family): Promise<TcpFamilyResult> => {
      const addresses = (options.addresses[family] ?? []).slice(0, cap);
      const attempts = await Promise.all(
        addresses.map(async (address): Promise<TcpAttempt> => {
          const dialed = await connectTcp(address, target.port, signal);
          if (dialed.ok) {
            dialed.socket.destroy();
            return { address, family, ok: true, connectSeconds: dialed.connectSeconds };
          }
          return { address, family, ok: false, reason: dialed.reason, message: dialed.message, connectSeconds: dialed.durationSeconds };
        }),
      );
      return { family, probed: attempts.length, reachable: attempts.filter((a) => a.ok).length, attempts };
    }),
  );
  const durationSeconds = secondsSince(start);
  const probedFamilies = families.filter((f) => f.probed > 0);
  if (probedFamilies.length === 0) {
    return { ok: false, reason: 'no_addresses', message: 'no addresses to connect to (the DNS check found none)', durationSeconds, families };
  }
  const dead = probedFamilies.filter((f) => f.reachable === 0);
  if (dead.length > 0) {
    const failed = dead.flatMap((f) => f.attempts);
    const reason = dominantReason(failed);
    const message = dead.map((f) => `${f.family}: none of ${f.probed} reachable (${f.attempts.map((a) => `${a.address} ${a.reason}`).join(', ')})`).join('; ');
    return { ok: false, reason, message, durationSeconds, families };
  }
  return { ok: true, durationSeconds, families };
}

export interface TcpTunnelOptions {
  /** A Dial through a proxy: connect to it, then CONNECT host:port. */
  dial: Dial;
}

/**
 * The tcp check on a proxy path: connect to the proxy and open a CONNECT tunnel
 * to the host. A client behind the proxy gets no further than this, so the
 * proxy's refusals (407, 403, 502...) are this check's reasons. The one
 * "address" is the proxy.
 */
export async function probeTcpTunnel(_target: Target, options: TcpTunnelOptions, signal: AbortSignal): Promise<TcpResult> {
  const start = process.hrtime.bigint();
  const dialed = await options.dial(signal);
  const durationSeconds = secondsSince(start);
  const family: Family = dialed.ok && dialed.socket.remoteFamily === 'IPv6' ? 'v6' : 'v4';
  if (!dialed.ok) {
    const attempt: TcpAttempt = { address: 'proxy', family, ok: false, reason: dialed.reason, message: dialed.message, connectSeconds: dialed.durationSeconds };
    return { ok: false, reason: dialed.reason, message: dialed.message, durationSeconds, families: [{ family, probed: 1, reachable: 0, attempts: [attempt] }] };
  }
  dialed.socket.destroy();
  const attempt: TcpAttempt = { address: dialed.remoteAddress ?? 'proxy', family, ok: true, connectSeconds: dialed.connectSeconds };
  const result: TcpResult = { ok: true, durationSeconds, families: [{ family, probed: 1, reachable: 1, attempts: [attempt] }] };
  if (dialed.proxyConnectSeconds !== undefined) result.proxyConnectSeconds = dialed.proxyConnectSeconds;
  return result;
}
