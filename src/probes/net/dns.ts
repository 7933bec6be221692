// DNS probe: resolves A/AAAA for a target's families through node:dns (c-ares),
// with TTLs, follows the CNAME chain, and flags sinkholed answers.
//
// Why c-ares and not dns.lookup: getaddrinfo ignores setServers, hides TTLs and
// rcodes, and cannot be cancelled. A fresh Resolver per probe also means c-ares's
// per-channel answer cache never hides a TTL counting down between probes.
import { promises as dnsPromises } from 'node:dns';
import { onAbort } from '../../async/abort.js';
import type { FailureReason } from '../reasons.js';
import type { ProbeOutcome } from '../types.js';
import type { Family, Target } from '../../model/types.js';
import { hostPort } from '../../host-port.js';
import { CidrSet, normaliseIp } from '../../cidr.js';
import { secondsSince } from '../../async/clock.js';
import { errorCode } from '../errors.js';

export interface DnsProbeOptions {
  /** 'system' = the resolver's default servers (from /etc/resolv.conf, i.e. dns.getServers()); otherwise an explicit server. */
  resolver: { name: string; ip: string; port: number } | 'system';
  /** Which answers count as sinkholed. Default: isSinkholeAddress; see sinkholePolicy(). */
  sinkhole?: (address: string) => boolean;
}

/** One record type's lookup; its durationSeconds is that lookup's time. */
export interface DnsRecordResult extends ProbeOutcome {
  type: 'A' | 'AAAA';
  family: Family;
  /** Unique, sorted; IPv6 in canonical compressed form; at most MAX_ADDRESSES_PER_RECORD. */
  addresses: string[];
  /** Set when the answer held more unique addresses than were kept: how many. */
  answered?: number;
  /** Minimum TTL of the answer set; null when there is no answer. */
  ttl: number | null;
}

export interface DnsResult extends ProbeOutcome {
  /** 'system' or the server's name. */
  resolver: string;
  /** One per family of the target, in target.families order. */
  records: DnsRecordResult[];
  /** Names followed from target.host through CNAMEs; empty when none. */
  cnameChain: string[];
}

// c-ares doubles the timeout on each retry (a silent server with these values gives
// ETIMEOUT after ~3 s, not 2 s), so they only bound a lookup nobody aborts; the
// caller's signal is the real deadline. The signal does not say how much time is
// left, hence fixed values rather than a fraction of the budget.
const ATTEMPT_TIMEOUT_MS = 1000;
const TRIES = 2;
const MAX_CNAME_HOPS = 8;
/**
 * Addresses kept of one answer (the first, sorted): a hostile or broken server may
 * answer hundreds, and every kept one costs a connect and memory. The tcp check
 * connects to at most 16 a family anyway.
 */
export const MAX_ADDRESSES_PER_RECORD = 64;

const SINKHOLE_RANGES = new CidrSet([
  '0.0.0.0/8',
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '169.254.0.0/16',
  '100.64.0.0/10',
  '::/128',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
]);

const UNSPECIFIED_RANGES = new CidrSet(['0.0.0.0/8', '::/128']);
const LOOPBACK_RANGES = new CidrSet(['127.0.0.0/8', '::1/128']);

/** 0.0.0.0/8 or :: : nothing is ever reachable there, whoever answers it. */
export function isUnspecifiedAddress(address: string): boolean {
  return UNSPECIFIED_RANGES.contains(address);
}

/**
 * The sinkhole test for answers from one resolver. A resolver configured on
 * this machine's loopback is a local cache or a lab that legitimately answers
 * loopback or private addresses, so only unspecified answers count there.
 * Any other resolver (and the system's) must answer public addresses for the
 * public hosts of a catalog.
 */
export function sinkholePolicy(resolver: DnsProbeOptions['resolver']): (address: string) => boolean {
  if (resolver !== 'system' && LOOPBACK_RANGES.contains(resolver.ip)) return isUnspecifiedAddress;
  return isSinkholeAddress;
}

/** True when a public name should never resolve to this address (mapped forms like ::ffff:10.0.0.1 too). */
export function isSinkholeAddress(address: string): boolean {
  return SINKHOLE_RANGES.contains(address);
}

/** Maps a node:dns error to a reason. `aborted` = we cancelled because the deadline passed. */
export function dnsErrorReason(err: unknown, aborted = false): FailureReason {
  const code = errorCode(err);
  if (aborted) return 'timeout';
  switch (code) {
    case 'ENOTFOUND':
      return 'nxdomain';
    case 'ENODATA':
      return 'nodata';
    case 'ESERVFAIL':
      return 'servfail';
    case 'EREFUSED':
      return 'refused';
    // c-ares reports ECONNREFUSED when it cannot talk to the server at all: a
    // closed port (ICMP port unreachable) or no route to it. The resolver is
    // unreachable, which is not the server answering REFUSED by policy.
    case 'ECONNREFUSED':
      return 'unreachable';
    case 'ETIMEOUT':
    case 'ECANCELLED':
      return 'timeout';
    default:
      // EBADRESP, EFORMERR, ENOTIMP, EBADNAME, ...
      return 'dns_error';
  }
}

function canonical(address: string): string {
  return normaliseIp(address) ?? address;
}

export async function probeDns(target: Target, options: DnsProbeOptions, signal: AbortSignal): Promise<DnsResult> {
  const start = process.hrtime.bigint();
  const resolverName = options.resolver === 'system' ? 'system' : options.resolver.name;
  const isSinkhole = options.sinkhole ?? isSinkholeAddress;
  const families = [...new Set(target.families)];

  const timedOut = (family: Family): DnsRecordResult => ({
    type: family === 'v4' ? 'A' : 'AAAA',
    family,
    ok: false,
    reason: 'timeout',
    message: 'deadline reached before the answer',
    addresses: [],
    ttl: null,
    durationSeconds: secondsSince(start),
  });

  // Already past the deadline: do not send a single packet.
  if (signal.aborted) {
    return summarize(families.map(timedOut), [], resolverName, start);
  }

  const resolver = new dnsPromises.Resolver({ timeout: ATTEMPT_TIMEOUT_MS, tries: TRIES });
  if (options.resolver !== 'system') {
    const { ip, port } = options.resolver;
    resolver.setServers([hostPort(ip, port)]);
  }

  // On abort: cancel() makes c-ares fail every pending query (ECANCELLED) and
  // release its socket and timer; `aborted` settles our races at once, without
  // waiting for those rejections.
  let forget = (): void => {};
  const aborted = new Promise<'aborted'>((resolve) => {
    forget = onAbort(signal, () => {
      resolver.cancel();
      resolve('aborted');
    });
  });

  async function lookup(family: Family): Promise<DnsRecordResult> {
    const type = family === 'v4' ? 'A' : 'AAAA';
    try {
      const answers = family === 'v4' ? await resolver.resolve4(target.host, { ttl: true }) : await resolver.resolve6(target.host, { ttl: true });
      if (answers.length === 0) {
        // NOERROR with CNAMEs but no address (c-ares resolves to []): the chain ends at a
        // name without this record type, or loops. Either way there is nothing to connect to.
        const walked = await Promise.race([cnames, aborted]);
        if (walked === 'aborted') return timedOut(family);
        const end = walked.chain.at(-1) ?? target.host;
        const failed = (reason: FailureReason, message: string): DnsRecordResult => ({ type, family, ok: false, reason, message, addresses: [], ttl: null, durationSeconds: secondsSince(start) });
        if (walked.loop) return failed('dns_error', `CNAME loop: ${[target.host, ...walked.chain].join(' -> ')} -> ${walked.loop}`);
        return failed('nodata', `${type} lookup answered no address: the CNAME chain ends at ${end}, which has no ${type} record`);
      }
      const unique = [...new Set(answers.map((a) => canonical(a.address)))].sort();
      const addresses = unique.slice(0, MAX_ADDRESSES_PER_RECORD);
      const capped = unique.length > addresses.length ? { answered: unique.length } : {};
      const ttl = Math.min(...answers.map((a) => a.ttl));
      const durationSeconds = secondsSince(start);
      const sinkholed = addresses.filter(isSinkhole);
      // Any sinkhole address fails the record, even mixed with public ones:
      // a public name has no business answering them at all.
      if (sinkholed.length > 0) {
        return { type, family, ok: false, reason: 'sinkholed', message: `${type} answered non-public ${sinkholed.join(', ')}`, addresses, ttl, durationSeconds, ...capped };
      }
      if (capped.answered !== undefined) {
        return { type, family, ok: true, message: `${capped.answered} addresses answered, kept the first ${addresses.length}`, addresses, ttl, durationSeconds, ...capped };
      }
      return { type, family, ok: true, addresses, ttl, durationSeconds };
    } catch (err) {
      const reason = dnsErrorReason(err, signal.aborted);
      const message = signal.aborted ? 'deadline reached before the answer' : `${type} lookup failed: ${errorCode(err) || String(err)}`;
      return { type, family, ok: false, reason, message, addresses: [], ttl: null, durationSeconds: secondsSince(start) };
    }
  }

  // Best effort: a failure just ends the chain where it is. `loop` names the name
  // that came back a second time.
  const chain: string[] = [];
  async function walkCnames(): Promise<{ chain: readonly string[]; loop?: string }> {
    let name = target.host;
    for (let hop = 0; hop < MAX_CNAME_HOPS && !signal.aborted; hop++) {
      let next: string | undefined;
      try {
        [next] = await resolver.resolveCname(name);
      } catch {
        break; // ENODATA/ENOTFOUND end a chain; anything else is the address lookups' business
      }
      if (next === undefined) break;
      if (next.toLowerCase() === target.host.toLowerCase() || chain.includes(next)) return { chain, loop: next };
      chain.push(next);
      name = next;
    }
    return { chain };
  }
  // Started before the lookups: an empty answer needs it to say why.
  const cnames = walkCnames();

  try {
    const racing = families.map(async (family) => {
      const result = await Promise.race([lookup(family), aborted]);
      return result === 'aborted' ? timedOut(family) : result;
    });
    const [records] = await Promise.all([Promise.all(racing), Promise.race([cnames, aborted])]);
    // The chain as far as it got; copy so a late hop cannot change a returned result.
    return summarize(records, [...chain], resolverName, start);
  } finally {
    forget();
  }
}

function summarize(records: DnsRecordResult[], cnameChain: string[], resolver: string, start: bigint): DnsResult {
  const failed = records.filter((r) => !r.ok);
  const describe = (r: DnsRecordResult): string =>
    r.ok
      ? `${r.type} ${r.addresses.join(', ')} (ttl ${r.ttl}${r.answered === undefined ? '' : `; kept ${r.addresses.length} of ${r.answered}`})`
      : `${r.type} ${r.reason}: ${r.message ?? ''}`;
  const message = records.map(describe).join('; ') + (cnameChain.length > 0 ? `; via ${cnameChain.join(' -> ')}` : '');
  const result: DnsResult = { ok: failed.length === 0, resolver, records, cnameChain, message, durationSeconds: secondsSince(start) };
  if (failed.length > 0) result.reason = failed[0]?.reason;
  return result;
}
