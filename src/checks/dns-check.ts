// The dns check: the target's name through every configured resolver (or the
// system's). Its answers also give the direct path the addresses to connect to.
import type { Config } from '../config/types.js';
import type { Family, Target } from '../model/types.js';
import { sinkholePolicy } from '../probes/net/dns.js';
import type { DnsProbeOptions, DnsResult } from '../probes/net/dns.js';
import type { RoundContext } from './context.js';

export function resolversOf(config: Config): DnsProbeOptions['resolver'][] {
  return config.dns.servers.length > 0 ? config.dns.servers : ['system'];
}

/** One resolver's answer; undefined when the round was stopped. */
export function dnsCheck(target: Target, resolver: DnsProbeOptions['resolver'], ctx: RoundContext): Promise<DnsResult | undefined> {
  const name = resolver === 'system' ? 'system' : resolver.name;
  return ctx.runner.run(
    { host: target.host, port: target.port, check: 'dns', where: name },
    (signal) => ctx.probes.dns(target, { resolver, sinkhole: ctx.sinkhole ?? sinkholePolicy(resolver) }, signal),
    (reason, message, durationSeconds) => ({ ok: false, reason, message, durationSeconds, resolver: name, records: [], cnameChain: [] }),
  );
}

/** The addresses to connect to: the first resolver with a clean answer wins. */
export function addressesFrom(results: readonly DnsResult[]): Partial<Record<Family, string[]>> {
  const addresses: Partial<Record<Family, string[]>> = {};
  for (const result of results) {
    for (const record of result.records) {
      if (record.ok && addresses[record.family] === undefined) addresses[record.family] = record.addresses;
    }
  }
  return addresses;
}
