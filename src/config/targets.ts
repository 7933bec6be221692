// The list of targets to probe: the chosen catalog's hosts (minus wildcards and
// excludes), with config targets overriding or extending them.
import { getCatalog } from '../catalog/index.js';
import { CHECK_NAMES } from '../model/types.js';
import type { Target } from '../model/types.js';
import { resolveRegistries } from './registries.js';
import type { Config } from './types.js';

function endpointKey(host: string, port: number): string {
  return `${host}\n${port}`;
}

/**
 * Catalog hosts first, in catalog order (wildcards skipped, `exclude` dropped;
 * source = the catalog's name, all four checks, no labels, the catalog's TLS
 * requirements). Then each config target: one with the host and port of a catalog
 * entry replaces that entry's port, families, checks and labels, and its http and
 * TLS requirements when it sets them (the purpose and source stay); any other is
 * appended with source `config` and, unless it sets its own, `tls.requirements`.
 */
export function resolveTargets(config: Config): Target[] {
  const catalog = getCatalog(config.catalog);
  const excluded = new Set(config.exclude);
  const targets: Target[] = [];
  const position = new Map<string, number>();

  for (const entry of catalog.hosts) {
    if (entry.wildcard === true || excluded.has(entry.host)) continue;
    const target: Target = {
      host: entry.host,
      port: entry.port,
      families: [...entry.families],
      checks: [...CHECK_NAMES],
      labels: {},
      purpose: entry.purpose,
      source: catalog.name,
      // The vendor's requirements, for the vendor's hosts.
      tlsRequirements: catalog.tlsRequirements,
    };
    if (entry.http !== undefined) target.http = entry.http;
    if (entry.expectedIssuers !== undefined) target.expectedIssuers = entry.expectedIssuers;
    if (entry.h2 === true) target.h2 = true;
    position.set(endpointKey(entry.host, entry.port), targets.length);
    targets.push(target);
  }

  for (const configured of config.targets) {
    const i = position.get(endpointKey(configured.host, configured.port));
    const listed = i === undefined ? undefined : targets[i];
    const target: Target = {
      host: configured.host,
      port: configured.port,
      families: [...configured.families],
      checks: [...configured.checks],
      labels: { ...configured.labels },
      purpose: listed?.purpose ?? '',
      source: listed?.source ?? 'config',
      // Its own list, else the catalog's for a catalog host, else the config's default for its own targets.
      tlsRequirements: configured.tlsRequirements ?? listed?.tlsRequirements ?? config.tls.requirements,
    };
    if (configured.serverName !== undefined) target.serverName = configured.serverName;
    const http = configured.http ?? listed?.http;
    if (http !== undefined) target.http = http;
    const issuers = configured.expectedIssuers ?? listed?.expectedIssuers;
    if (issuers !== undefined) target.expectedIssuers = issuers;
    if (configured.privateCa === true) target.privateCa = true;
    if (configured.expect !== undefined) target.expect = configured.expect;
    if (listed?.h2 === true) target.h2 = true;
    if (i === undefined) {
      position.set(endpointKey(configured.host, configured.port), targets.length);
      targets.push(target);
    } else targets[i] = target;
  }

  // Each registry's pull runs in the rounds of the target on its host and port;
  // a registry nobody lists as a target (a pull-through cache) becomes one, with
  // only the pull to check.
  for (const { host, port, ...pull } of resolveRegistries(config)) {
    const i = position.get(endpointKey(host, port));
    const listed = i === undefined ? undefined : targets[i];
    if (listed !== undefined) listed.registry = pull;
    else targets.push({ host, port, families: ['v4'], checks: [], labels: {}, purpose: 'OCI registry pull path', source: 'config', registry: pull, tlsRequirements: [] });
  }
  return targets;
}
