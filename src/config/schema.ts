// The config file: what each key may hold, its default, and the checks across
// keys, read with the kit of reader.ts straight into the effective Config
// (camelCase, milliseconds, defaults that depend on other keys). Each problem
// gets an exact message, most of them `expected <what>, got <what was found>`.
import { validate as validateCron, validateDetailed as validateCronDetailed } from 'node-cron';
import { CATALOG_NAMES, getCatalog } from '../catalog/index.js';
import type { CatalogName } from '../catalog/index.js';
import { isIPv4, isIPv6, normaliseCidr } from '../cidr.js';
import { hostPort, normaliseHost, splitHostPort } from '../host-port.js';
import { HISTOGRAM_NAMES, LATENCY_BUCKETS } from '../model/histograms.js';
import type { HistogramName } from '../model/histograms.js';
import { TLS_REQUIREMENTS } from '../model/tls-requirements.js';
import type { TlsRequirement } from '../model/tls-requirements.js';
import { CHECK_NAMES, EXPECTATIONS, FAMILIES } from '../model/types.js';
import type { Family, TargetExpectation } from '../model/types.js';
import { cronPeriodMs } from './cron-period.js';
import { formatDuration } from './duration.js';
import { httpExpectation } from './http-schema.js';
import { readFeed, checkFeedAgainstConfig } from './feed.js';
import { parseResolverAddress } from './resolver-address.js';
import { bool, describeNotString, describeValue, distinctListOf, duration, enumValue, filePath, firstTime, integer, leaf, listOf, mapping, mappingOf, oneOf } from './reader.js';
import type { Check, Fields, Value } from './reader.js';
import type { Config, ProxyConfig, RegistryConfig, RegistryCredentialSource, TargetConfig } from './types.js';

const SECOND_MS = 1000;
const DAY_MS = 24 * 60 * 60 * SECOND_MS;

export const DEFAULTS = {
  catalog: 'chainguard' as CatalogName,
  intervalMs: 30 * SECOND_MS,
  timeoutMs: 10 * SECOND_MS,
  concurrency: 8,
  proxy: 'env',
  port: 443,
  checks: CHECK_NAMES,
  /** The requirement handshakes run this often (and when the default handshake changes). */
  requirementsIntervalMs: 10 * 60 * SECOND_MS,
  registryRepository: 'chainguard/static',
  registryReference: 'latest',
  registryPlatform: 'linux/amd64',
} as const;

export const LIMITS = {
  intervalMinMs: SECOND_MS,
  /** Node timers overflow past 2^31-1 ms (about 24.8 days); one day is plenty. */
  durationMaxMs: DAY_MS,
  concurrencyMin: 1,
  concurrencyMax: 256,
  labelValueMaxChars: 128,
} as const;

/** Label names the exporter sets itself; a target's own labels may not use them. */
export const RESERVED_LABEL_NAMES = [
  'host',
  'check',
  'path',
  'reason',
  'resolver',
  'family',
  'type',
  'phase',
  'requirement',
  'instance',
  'job',
] as const;

export const REGISTRY_CREDENTIAL_SOURCES: readonly RegistryCredentialSource[] = ['anonymous', 'env', 'docker_config'];


// ---------------------------------------------------------------------------
// Scalars


/** ` (4 fields)` or ` (invalid minute field "61")`: what is wrong with a cron expression. */
function cronHint(input: unknown): string {
  if (typeof input !== 'string') return '';
  const fields = input.trim() === '' ? 0 : input.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6 && !input.trim().startsWith('@')) return ` (${fields} field${fields === 1 ? '' : 's'})`;
  const bad = validateCronDetailed(input).errors.find((e) => e.field !== 'expression' && e.value !== undefined);
  return bad === undefined ? '' : ` (invalid ${bad.field} field ${JSON.stringify(bad.value)})`;
}

const cronExpression = leaf(
  'a cron expression of 5 or 6 fields like "*/5 * * * *"',
  (input) => (typeof input === 'string' && validateCron(input) ? input : undefined),
  (input) => `${describeValue(input)}${cronHint(input)}`,
);

/** `http://host:port`, `https://user:pass@[::1]:3128/`: http or https, a host, an explicit port. */
function proxyUrlText(input: unknown): string | undefined {
  if (typeof input !== 'string' || !URL.canParse(input)) return undefined;
  const authority = /^https?:\/\/(?:[^@/?#\s]*@)?([^@/?#\s]*)\/?$/.exec(input)?.[1];
  const address = authority === undefined ? null : splitHostPort(authority);
  return address !== null && address.host !== '' && address.port !== undefined ? input : undefined;
}

const proxy = leaf('env, none or a URL like http://proxy.example:3128', (input) => (input === 'env' || input === 'none' ? input : proxyUrlText(input)));

/** A proxy of the `proxies` list: always a URL. */
const proxyUrl = leaf('a URL like http://proxy.example:3128', proxyUrlText);

/** A path name: becomes the `path` label, so short and plain. */
const PATH_NAME_RE = /^[a-z0-9][a-z0-9_.-]{0,31}$/;
const pathName = leaf("a name of up to 32 lower-case letters, digits, '.', '_' or '-', other than direct and system", (input) =>
  typeof input === 'string' && PATH_NAME_RE.test(input) && input !== 'direct' && input !== 'system' ? input : undefined,
);

const issuerName = leaf('an issuer organisation or common name (1 to 128 characters)', (input) =>
  typeof input === 'string' && input.trim() !== '' && input.length <= 128 ? input.trim() : undefined,
);

// ---------------------------------------------------------------------------
// Addresses

function hostHint(input: unknown): string {
  if (typeof input !== 'string') return '';
  if (input.includes('://')) return ' (a URL: give only its host)';
  if (input.includes('*')) return ' (wildcards cannot be probed)';
  // What the text looks like, not a parse: `cgr.dev:99999` gets the hint too.
  if (/^(?:[^:]+|\[.*\]):\d+$/.test(input)) return ' (put the port in port:)';
  if (input.includes('/')) return ' (give only the host, no path)';
  return '';
}

const host = leaf('a host name or IP address', (input) => (typeof input === 'string' ? normaliseHost(input) : null), (input) => `${describeValue(input)}${hostHint(input)}`);

const resolverAddress = leaf('ip[:port]', (input) => (typeof input === 'string' ? parseResolverAddress(input) : null));

const cidr = leaf('a CIDR like 10.0.0.0/8 or 2001:db8::/32', (input) => (typeof input === 'string' ? normaliseCidr(input) : null));

/** Exclude entries are matched against the catalog later, so any name-like string goes. */
const excludedHost = leaf('a host name', (input) => {
  if (typeof input !== 'string' || input.trim() === '') return undefined;
  const name = input.endsWith('.') ? input.slice(0, -1) : input;
  return normaliseHost(name) ?? name.toLowerCase();
});

// ---------------------------------------------------------------------------
// Lists and maps

/** A non-empty list of distinct values out of `allowed`, in the order of `allowed`. */
function enumSet<T extends string>(allowed: readonly T[]): Check<T[]> {
  const list = distinctListOf(oneOf(allowed), enumValue(allowed));
  return (value) => {
    if (!Array.isArray(value.input) || value.input.length === 0) return value.fail(`expected a non-empty list of ${oneOf(allowed)}, got ${describeValue(value.input)}`);
    const values = list(value) ?? [];
    return allowed.filter((name) => values.includes(name));
  };
}

/** Histogram bucket bounds: positive numbers of seconds, strictly increasing. */
const bucketList: Check<number[]> = (value) => {
  const input = value.input;
  if (!Array.isArray(input) || input.length === 0) return value.fail(`expected a non-empty list of bucket bounds in seconds, got ${describeValue(input)}`);
  const problems = value.problems.count;
  input.forEach((bound: unknown, i) => {
    const previous: unknown = input[i - 1];
    if (typeof bound !== 'number' || !Number.isFinite(bound) || bound <= 0) value.fail(`expected a positive number of seconds, got ${describeValue(bound)}`, [i]);
    else if (typeof previous === 'number' && bound <= previous) value.fail(`bucket bounds must increase: ${bound} follows ${previous}`, [i]);
  });
  return value.problems.count === problems ? (input as number[]) : undefined;
};

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const labels = mappingOf('a mapping of label names to strings', (name, value, map): string | undefined => {
  if (!LABEL_NAME_RE.test(name)) return map.fail(`expected a label name matching ^[a-zA-Z_][a-zA-Z0-9_]*$, got ${JSON.stringify(name)}`, [], [name]);
  if (name.startsWith('__')) return map.fail(`expected a label name not starting with __, got ${JSON.stringify(name)}`, [], [name]);
  if ((RESERVED_LABEL_NAMES as readonly string[]).includes(name)) {
    return map.fail(`expected a label name other than ${oneOf(RESERVED_LABEL_NAMES)}, got ${JSON.stringify(name)}`, [], [name]);
  }
  if (typeof value.input !== 'string') return value.fail(`expected a string of at most ${LIMITS.labelValueMaxChars} characters, got ${describeNotString(value.input)}`);
  const length = [...value.input].length;
  if (length > LIMITS.labelValueMaxChars) return value.fail(`expected a string of at most ${LIMITS.labelValueMaxChars} characters, got ${length} characters`);
  return value.input;
});

// ---------------------------------------------------------------------------
// Registries (the OCI distribution spec's grammar)

const REPOSITORY_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST_RE = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const PLATFORM_RE = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;

const repository = leaf("a repository like chainguard/static (lower-case letters and digits, separated by /, '.', '_' or '-')", (input) =>
  typeof input === 'string' && input.length <= 255 && REPOSITORY_RE.test(input) ? input : undefined,
);

const reference = leaf(
  'a tag like latest or a digest like sha256:<64 hex digits>',
  (input) => (typeof input === 'string' && (TAG_RE.test(input) || DIGEST_RE.test(input)) ? input : undefined),
  describeNotString,
);

const platform = leaf('os/architecture[/variant] like linux/amd64', (input) => (typeof input === 'string' && PLATFORM_RE.test(input) ? input : undefined));

/** The name a target's TLS and HTTP use in place of its host: a DNS name, never an IP address (SNI carries names only). */
const serverName = leaf(
  'a host name to send as SNI (not an IP address)',
  (input) => {
    if (typeof input !== 'string') return undefined;
    const name = normaliseHost(input);
    return name !== null && !isIPv4(name) && !isIPv6(name) ? name : undefined;
  },
  (input) => {
    if (typeof input !== 'string') return describeValue(input);
    const name = normaliseHost(input);
    if (name !== null && (isIPv4(name) || isIPv6(name))) return `${describeValue(input)} (an IP address: SNI carries names only; an IP address is the host to dial)`;
    return `${describeValue(input)}${hostHint(input)}`;
  },
);

// ---------------------------------------------------------------------------
// Expectations: which paths must work, which must stay blocked

const expectation = enumValue(EXPECTATIONS);
const EXPECT_WHAT = `${oneOf(EXPECTATIONS)}, or a mapping of path names (direct, proxy, a name from proxies) to one of them`;

/** `blocked` for every path, or `{ direct: blocked, corp: reachable }`; the path names are checked against the config's paths later (checkExpectPaths). */
const targetExpectation: Check<TargetExpectation> = (value) => {
  const input = value.input;
  if (typeof input === 'string') return expectation(value);
  if (input === null || typeof input !== 'object' || Array.isArray(input) || Object.keys(input).length === 0) return value.fail(`expected ${EXPECT_WHAT}, got ${describeValue(input)}`);
  return mappingOf('a mapping', (_name, entry) => expectation(entry))(value);
};

/** The path names a config probes (see checks/paths.ts): what a target's `expect` may name. */
function configPathNames(config: Config): string[] {
  if (config.proxies.length > 0) return [...(config.compareDirect ? ['direct'] : []), ...config.proxies.map((p) => p.name)];
  if (config.proxy === 'none') return ['direct'];
  // env: per host, direct (NO_PROXY, or no proxy set) or through the proxy.
  if (config.proxy === 'env') return ['direct', 'proxy'];
  return [...(config.compareDirect ? ['direct'] : []), 'proxy'];
}

/** Every path a target's `expect` names must be one the config probes. */
function checkExpectPaths(targets: Value, config: Config, file: Value): void {
  if (!Array.isArray(targets.input) || !['proxy', 'proxies', 'compare_direct'].every((key) => file.child(key).ok)) return;
  const names = configPathNames(config);
  targets.input.forEach((entry: unknown, i) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return;
    const at = targets.child(i).child('expect');
    if (at.unset || typeof at.input !== 'object' || !at.ok) return;
    for (const name of Object.keys(at.input as object)) {
      if (names.includes(name)) continue;
      const hint = name === 'direct' && config.proxies.length + (config.proxy.includes('://') ? 1 : 0) > 0 ? ': set compare_direct: true to probe it' : '';
      at.fail(`${JSON.stringify(name)} is not a path this config probes (paths: ${names.join(', ')})${hint}`, [name]);
    }
  });
}

// ---------------------------------------------------------------------------
// The file

const PORT = integer(1, 65535);

type Endpoint = { host: string; port: number };

/** A check that reports an endpoint listed before, as `cgr.dev:443 is listed twice`. */
const firstEndpoint = () => firstTime<Endpoint>((entry) => hostPort(entry.host, entry.port));

/** `host` and `port` of a target or registry; undefined when either is wrong, or the host missing. */
function endpoint(fields: Fields, once: (entry: Endpoint, at: Value) => unknown): Endpoint | undefined {
  const hostName = fields.at('host').required(host);
  const port = fields.at('port');
  const number = port.or(DEFAULTS.port, PORT);
  if (hostName === undefined || !port.ok) return undefined;
  const address = { host: hostName, port: number };
  once(address, fields.value);
  return address;
}

function targetEntry(catalog: CatalogName): Check<TargetConfig> {
  const once = firstEndpoint();
  return mapping('a mapping with at least a host key', (fields) => {
    const address = endpoint(fields, once);
    const serverNameKey = fields.at('server_name');
    const serverNameValue = serverNameKey.read(serverName);
    const families = fields.at('families');
    const familiesValue = families.read(enumSet(FAMILIES));
    const checks = fields.at('checks').or([...DEFAULTS.checks], enumSet(CHECK_NAMES));
    const labelsValue = fields.at('labels').or({}, labels);
    const httpKey = fields.at('http');
    const httpValue = httpKey.read(httpExpectation);
    const expectedIssuers = fields.at('expected_issuers').read(distinctListOf('issuer names', issuerName, (name) => name.toLowerCase()));
    const privateCa = fields.at('private_ca').or(false, bool);
    const requirements = fields.at('tls_requirements').read(tlsRequirementList);
    const expect = fields.at('expect').read(targetExpectation);

    const family: Family | null = address === undefined ? null : isIPv4(address.host) ? 'v4' : isIPv6(address.host) ? 'v6' : null;
    if (family !== null && familiesValue !== undefined && (familiesValue.length !== 1 || familiesValue[0] !== family)) {
      families.fail(`expected [${family}] for an IP${family} address, got [${familiesValue.join(', ')}]`);
    }
    if (!httpKey.unset && !checks.includes('http')) httpKey.fail('cannot be set when checks does not include http');
    if (!serverNameKey.unset && !checks.includes('tls') && !checks.includes('http')) serverNameKey.fail('cannot be set when checks includes neither tls nor http: it is the name their TLS and HTTP use');
    if (address === undefined) return undefined;

    const listed = getCatalog(catalog).hosts.find((entry) => !entry.wildcard && entry.host === address.host && entry.port === address.port);
    const out: TargetConfig = {
      ...address,
      ...(serverNameValue !== undefined && { serverName: serverNameValue }),
      families: familiesValue ?? (listed !== undefined ? [...listed.families] : isIPv6(address.host) ? ['v6'] : ['v4']),
      checks,
      labels: labelsValue,
    };
    if (httpValue !== undefined) out.http = httpValue;
    if (expectedIssuers !== undefined) out.expectedIssuers = expectedIssuers;
    if (privateCa) out.privateCa = true;
    if (requirements !== undefined) out.tlsRequirements = requirements;
    if (expect !== undefined) out.expect = expect;
    return out;
  });
}

/** TLS requirement names, each once (an empty list: only the unconstrained handshake is judged). */
const tlsRequirementList: Check<TlsRequirement[]> = distinctListOf(oneOf(TLS_REQUIREMENTS), enumValue(TLS_REQUIREMENTS));

function registryEntry(): Check<RegistryConfig> {
  const once = firstEndpoint();
  return mapping('a mapping with at least a host key', (fields) => {
    const address = endpoint(fields, once);
    const repo = fields.at('repository').or(DEFAULTS.registryRepository, repository);
    const ref = fields.at('reference').or(DEFAULTS.registryReference, reference);
    const plat = fields.at('platform').or(DEFAULTS.registryPlatform, platform);
    const credentials = fields.at('credentials').read(enumValue(REGISTRY_CREDENTIAL_SOURCES));
    const dockerConfig = fields.at('docker_config');
    const dockerConfigPath = dockerConfig.read(filePath) ?? null;
    if (!dockerConfig.unset && credentials !== undefined && credentials !== 'docker_config') dockerConfig.fail(`cannot be set when credentials is ${credentials}`);
    if (address === undefined) return undefined;
    return {
      ...address,
      repository: repo,
      reference: ref,
      platform: plat,
      credentials: credentials ?? (dockerConfigPath !== null ? 'docker_config' : 'anonymous'),
      dockerConfig: dockerConfigPath,
    };
  });
}

function proxyEntry(): Check<ProxyConfig> {
  const once = firstTime<string>();
  return mapping('a mapping with name and url', (fields) => {
    const name = fields.at('name');
    const nameValue = name.required(pathName);
    const url = fields.at('url').required(proxyUrl);
    const expectInterception = fields.at('expect_interception').or(false, bool);
    if (nameValue !== undefined) once(nameValue, name);
    return nameValue === undefined || url === undefined ? undefined : { name: nameValue, url, expectInterception };
  });
}

function configFile(file: Fields): Config {
  const catalogKey = file.at('catalog');
  const catalog = catalogKey.or(DEFAULTS.catalog, enumValue(CATALOG_NAMES));
  const interval = file.at('interval');
  const intervalMs = interval.read(duration(LIMITS.intervalMinMs, LIMITS.durationMaxMs));
  const schedule = file.at('schedule');
  const scheduleValue = schedule.read(cronExpression) ?? null;
  const timeout = file.at('timeout');
  const timeoutMs = timeout.or(DEFAULTS.timeoutMs, duration(1, LIMITS.durationMaxMs));

  if (!schedule.unset && !interval.unset) schedule.fail('cannot be set together with interval');
  // timeout < the time between two rounds: the interval, or the schedule's shortest gap
  // between ticks. With both set (an error of its own), the interval still has its say.
  if (timeout.ok) {
    const gap = !interval.unset || schedule.unset ? { ok: interval.ok, ms: intervalMs ?? DEFAULTS.intervalMs, what: 'interval' } : { ok: scheduleValue !== null, ms: scheduleValue === null ? 0 : cronPeriodMs(scheduleValue), what: 'the schedule\'s period' };
    if (gap.ok && timeoutMs >= gap.ms) timeout.fail(`must be shorter than ${gap.what} (${formatDuration(gap.ms)}), got ${formatDuration(timeoutMs)}${timeout.unset ? ' (the default)' : ''}`);
  }

  // Exclude entries must be hosts of the catalog, once the catalog itself is right.
  const catalogHosts = catalogKey.ok ? new Set(getCatalog(catalog).hosts.map((entry) => entry.host)) : null;
  const excludeOnce = firstTime<string>();
  const exclude = file.at('exclude').or(
    [],
    listOf('host names', (item) => {
      const name = excludedHost(item);
      if (name === undefined || excludeOnce(name, item) === undefined) return undefined;
      if (catalogHosts !== null && !catalogHosts.has(name)) item.fail(`${JSON.stringify(name)} is not a host of catalog ${catalog}`);
      return name;
    }),
  );

  const config: Config = {
    catalog,
    intervalMs: intervalMs ?? DEFAULTS.intervalMs,
    schedule: scheduleValue,
    timeoutMs,
    concurrency: file.at('concurrency').or(DEFAULTS.concurrency, integer(LIMITS.concurrencyMin, LIMITS.concurrencyMax)),
    dns: file.at('dns').section((dns) => ({
      servers: dns.at('servers').or([], distinctListOf('ip[:port]', resolverAddress, (address) => address.name)),
      firewallRefreshIntervalMs: dns.at('firewall_refresh_interval').read(duration(1, LIMITS.durationMaxMs)) ?? null,
      allowlistCidrs: dns.at('allowlist_cidrs').or([], distinctListOf('CIDRs', cidr)),
      sinkholeCidrs: dns.at('sinkhole_cidrs').read(distinctListOf('CIDRs', cidr)) ?? null,
      required: dns.at('required').read(bool) ?? null,
    })),
    tls: file.at('tls').section((tls) => ({
      caFile: tls.at('ca_file').read(filePath) ?? null,
      publicCaFile: tls.at('public_ca_file').read(filePath) ?? null,
      requirementsIntervalMs: tls.at('requirements_interval').or(DEFAULTS.requirementsIntervalMs, duration(1, LIMITS.durationMaxMs)),
      requirements: tls.at('requirements').or([], tlsRequirementList),
    })),
    metrics: file.at('metrics').section((metrics) => {
      const chosen = metrics.at('histograms').or<HistogramName[]>([], distinctListOf(oneOf(HISTOGRAM_NAMES), enumValue(HISTOGRAM_NAMES)));
      return { histograms: HISTOGRAM_NAMES.filter((name) => chosen.includes(name)), buckets: metrics.at('buckets').or([...LATENCY_BUCKETS], bucketList) };
    }),
    proxy: file.at('proxy').or(DEFAULTS.proxy, proxy),
    proxies: file.at('proxies').or([], listOf('proxies', proxyEntry())),
    compareDirect: file.at('compare_direct').or(false, bool),
    web: file.at('web').section((web) => ({ allowAnyTarget: web.at('allow_any_target').or(false, bool) })),
    targets: file.at('targets').or([], listOf('targets', targetEntry(catalog))),
    exclude,
    // Absent: the catalog's registries (resolveRegistries); a list replaces them.
    registries: file.at('registries').read(listOf('registries', registryEntry())) ?? null,
    feed: file.at('feed').section((feed) => readFeed(feed, scheduleValue === null ? (intervalMs ?? DEFAULTS.intervalMs) : null)),
  };
  checkFeedAgainstConfig(file.at('feed'), config, file.value);
  checkExpectPaths(file.at('targets'), config, file.value);
  return config;
}

/** The whole file: every key, the checks across keys, and the effective Config. */
export const configSchema: Check<Config> = mapping('a mapping', configFile);
