// Opening a TCP connection with a hard deadline, as data: the one place that
// turns socket errors into reasons for every check that needs a connection.
// resolvingDial adds the lookup, for names the round did not resolve.
import net from 'node:net';
import { probeDns, sinkholePolicy } from './dns.js';
import type { DnsProbeOptions } from './dns.js';
import { listen, onAbort, settleOnce } from '../../async/abort.js';
import { secondsSince } from '../../async/clock.js';
import { errorMessage } from '../errors.js';
import { socketErrorReason } from '../reasons.js';
import type { Family, Target } from '../../model/types.js';
import type { Dial, DialResult } from '../types.js';


/** Connects to ip:port; resolves with the connected socket or a failure reason. */
export function connectTcp(ip: string, port: number, signal: AbortSignal): Promise<DialResult> {
  const start = process.hrtime.bigint();
  if (signal.aborted) return Promise.resolve({ ok: false, reason: 'timeout', message: 'deadline passed before connect', durationSeconds: 0 });
  const socket = net.connect({ host: ip, port, noDelay: true });
  return settleOnce<DialResult>(
    signal,
    () => ({ ok: false, reason: 'timeout', message: `connect to ${ip} port ${port} timed out`, durationSeconds: secondsSince(start) }),
    (settle) => {
      const onError = (err: Error): void =>
        settle({ ok: false, reason: socketErrorReason(err), message: `connect to ${ip} port ${port}: ${err.message}`, durationSeconds: secondsSince(start) });
      const onConnect = (): void => settle({ ok: true, socket, connectSeconds: secondsSince(start), remoteAddress: ip });
      const unlisten = listen(socket, { error: onError, connect: onConnect });
      return (result) => {
        unlisten();
        if (!result.ok) socket.destroy();
      };
    },
  );
}

/** A Dial that connects straight to one address. */
export function directDial(ip: string, port: number): Dial {
  return (signal) => connectTcp(ip, port, signal);
}

/** After the deadline, how long a dial may take to report its own, more specific reason (proxy_timeout, say). */
const DIAL_ABORT_GRACE_MS = 20;

/**
 * Resolves to the dial result, or undefined if `signal` aborts first and the dial does
 * not settle within a short grace (a dial that honours the signal reports its own,
 * more specific reason). A socket that arrives late is destroyed.
 */
export function dialUntilAbort(dial: Dial, signal: AbortSignal): Promise<DialResult | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  const failed = (err: unknown): DialResult => ({ ok: false, reason: socketErrorReason(err), message: errorMessage(err), durationSeconds: 0 });
  let pending: Promise<DialResult>;
  try {
    pending = dial(signal);
  } catch (err) {
    return Promise.resolve(failed(err));
  }
  return new Promise((resolve) => {
    let done = false;
    let grace: NodeJS.Timeout | undefined;
    const settle = (result: DialResult | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(grace);
      forget();
      resolve(result);
    };
    const forget = onAbort(signal, () => {
      grace = setTimeout(() => settle(undefined), DIAL_ABORT_GRACE_MS);
    });
    pending.then(
      (result) => {
        if (done || (result.ok && signal.aborted)) {
          if (result.ok) result.socket.destroy();
          settle(undefined);
          return;
        }
        settle(result);
      },
      (err: unknown) => settle(failed(err)),
    );
  });
}

export interface ResolvingDialOptions {
  /** Which DNS server answers: as the dns check's resolver option. Default 'system'. */
  resolver?: DnsProbeOptions['resolver'];
  /** Families to look up, in order of preference. Default v4 then v6. */
  families?: readonly Family[];
  /** Which answers count as sinkholed. Default: the resolver's policy (sinkholePolicy). */
  sinkhole?: (address: string) => boolean;
}

/** Addresses a resolving dial tries before giving up. */
const MAX_DIAL_ADDRESSES = 3;

/**
 * A Dial for a name nobody resolved yet (the blob host a registry redirects to, say):
 * the dns check's lookup, then TCP to the first addresses in turn until one connects.
 * A lookup that fails gives the dns reason (nxdomain, sinkholed, ...); an IP literal is
 * dialled as it is.
 */
export function resolvingDial(host: string, port: number, options: ResolvingDialOptions = {}): Dial {
  return async (signal) => {
    const literal = net.isIP(host);
    if (literal !== 0) return connectTcp(host, port, signal);
    const start = process.hrtime.bigint();
    const families = [...(options.families ?? ['v4', 'v6'])];
    const resolver = options.resolver ?? 'system';
    const target: Target = { host, port, families, checks: ['dns'], labels: {}, purpose: '', source: 'dial' };
    const dns = await probeDns(target, { resolver, sinkhole: options.sinkhole ?? sinkholePolicy(resolver) }, signal);
    const addresses = families.flatMap((family) => dns.records.find((r) => r.family === family && r.ok)?.addresses ?? []);
    if (addresses.length === 0) {
      const failed = dns.records.find((r) => !r.ok);
      const detail = failed?.message ?? 'no addresses';
      return { ok: false, reason: failed?.reason ?? 'no_addresses', message: `looking up ${host}: ${detail}`, durationSeconds: secondsSince(start) };
    }
    let first: DialResult | undefined;
    for (const address of addresses.slice(0, MAX_DIAL_ADDRESSES)) {
      const dialed = await connectTcp(address, port, signal);
      if (dialed.ok) return { ...dialed, lookupSeconds: dns.durationSeconds };
      first ??= dialed;
      if (signal.aborted) break;
    }
    return first ?? { ok: false, reason: 'no_addresses', message: `no address of ${host} to connect to`, durationSeconds: secondsSince(start) };
  };
}
