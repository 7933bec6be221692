// The schema of the YAML config file, in zod. zod gives the structure (strict
// mappings, lists, defaults); every leaf is checked by hand so that each problem
// gets an exact message of the form `expected <what>, got <what was found>`.
//
// Conventions:
// - A key that is absent or null (`interval:` with nothing after it) is unset:
//   its default applies. So a section whose keys are all commented out is fine.
// - Every problem is reported, not only the first: leaves report and carry on,
//   and the cross-key checks run even when other keys are wrong.
// - The zod output is the file's shape, validated and normalised; toConfig()
//   turns it into the effective Config (camelCase, milliseconds, defaults that
//   depend on other keys).
import ipaddr from 'ipaddr.js';
import { validate as validateCron, validateDetailed as validateCronDetailed } from 'node-cron';
import { z } from 'zod';
import { CATALOG_NAMES, getCatalog } from '../catalog/index.js';
import { hostPort } from '../host-port.js';
import type { CatalogHost, CatalogName } from '../catalog/index.js';
import type { HttpExpectation } from '../model/types.js';
import { CHECK_NAMES, FAMILIES } from '../model/types.js';
import type { CheckName, Family } from '../model/types.js';
import { HISTOGRAM_NAMES, LATENCY_BUCKETS } from '../metrics/families.js';
import type { HistogramName } from '../metrics/families.js';
import { formatDuration, parseDuration } from './duration.js';
import type { Config, RegistryConfig, RegistryCredentialSource, ResolverAddress, TargetConfig } from './types.js';

const SECOND_MS = 1000;
const DAY_MS = 24 * 60 * 60 * SECOND_MS;

export const DEFAULTS = {
  catalog: 'chainguard' as CatalogName,
  intervalMs: 30 * SECOND_MS,
  timeoutMs: 10 * SECOND_MS,
  concurrency: 8,
  dnsPort: 53,
  proxy: 'env',
  port: 443,
  checks: CHECK_NAMES,
  httpMethod: 'GET',
  httpPath: '/',
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

/** Probes only read: methods with side effects are refused. */
export const HTTP_METHODS = ['GET', 'HEAD', 'OPTIONS'] as const;

// ---------------------------------------------------------------------------
// Describing values in messages

/** How a value found in the file reads after `got`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 100 ? `${value.slice(0, 97)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (value instanceof Uint8Array) return 'binary data';
  if (typeof value === 'object') return Object.keys(value).length === 0 ? 'an empty mapping' : 'a mapping';
  return typeof value;
}

/** `got 1 (quote it: "1")` for a scalar where a string was expected. */
function describeNotString(value: unknown): string {
  const got = describeValue(value);
  return typeof value === 'number' || typeof value === 'boolean' ? `${got} (quote it: "${String(value)}")` : got;
}

function oneOf(values: readonly string[]): string {
  return values.join(', ');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

// ---------------------------------------------------------------------------
// Leaves: hand-written checks wrapped in zod

type PathSegment = string | number;
/**
 * Reports a problem at the leaf's path plus `subpath`. `at`, when given, is
 * where the problem sits in the file (relative to the path shown) when that
 * differs from the path shown: a bad label name is shown at `labels` but
 * sorted by the position of that name.
 */
type Report = (message: string, subpath?: PathSegment[], at?: PathSegment[]) => void;
/** Returns the normalised value, or INVALID after reporting why. */
type Check<T> = (input: unknown, report: Report) => T | typeof INVALID;

const INVALID = Symbol('invalid');

function run<T>(check: Check<T>, input: unknown, ctx: z.RefinementCtx): T {
  const report: Report = (message, subpath = [], at) =>
    ctx.addIssue(at === undefined ? { code: 'custom', message, path: subpath } : { code: 'custom', message, path: subpath, params: { at } });
  const out = check(input, report);
  // A value with problems (say, a list with one bad item) still goes on, for
  // the cross-key checks; the parse fails anyway because an issue was added.
  return out === INVALID ? z.NEVER : out;
}

const isUnset = (input: unknown): input is null | undefined => input === undefined || input === null;

/** A key that must be present. */
function required<T>(check: Check<T>) {
  return z.unknown().optional().transform((input, ctx): T => {
    if (isUnset(input)) {
      ctx.addIssue({ code: 'custom', message: 'required' });
      return z.NEVER;
    }
    return run(check, input, ctx);
  });
}

/** A key whose absence means `fallback`. */
function withDefault<T>(check: Check<T>, fallback: () => T) {
  return z.unknown().optional().transform((input, ctx): T => (isUnset(input) ? fallback() : run(check, input, ctx)));
}

/** A key whose absence means undefined. */
function optional<T>(check: Check<T>) {
  return z.unknown().optional().transform((input, ctx): T | undefined => (isUnset(input) ? undefined : run(check, input, ctx)));
}

/** A strict mapping: unknown keys are reported by zod and worded by load.ts. */
function mapping<S extends z.core.$ZodLooseShape>(shape: S, what = 'a mapping') {
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'invalid_type' ? `expected ${what}, got ${describeValue(issue.input)}` : undefined),
  });
}

/** A mapping section that may be absent or null: then all its defaults apply. */
function section<S extends z.core.$ZodLooseShape>(shape: S) {
  // Every key of a section is optional, which the generic shape cannot show.
  return z.preprocess((input) => (input === null ? undefined : input), mapping(shape).prefault({} as never));
}

// ---------------------------------------------------------------------------
// Scalar checks

function enumValue<T extends string>(allowed: readonly T[]): Check<T> {
  return (input, report) => {
    if (typeof input === 'string' && (allowed as readonly string[]).includes(input)) return input as T;
    report(`expected one of ${oneOf(allowed)}, got ${describeValue(input)}`);
    return INVALID;
  };
}

function integer(min: number, max: number): Check<number> {
  return (input, report) => {
    if (typeof input === 'number' && Number.isInteger(input) && input >= min && input <= max) return input;
    report(`expected an integer from ${min} to ${max}, got ${describeValue(input)}`);
    return INVALID;
  };
}

function duration(minMs: number, maxMs: number): Check<number> {
  return (input, report) => {
    const ms = typeof input === 'string' ? parseDuration(input) : null;
    if (ms === null) {
      report(`expected a duration like 30s or 1m30s, got ${describeValue(input)}`);
      return INVALID;
    }
    if (ms < minMs) {
      report(minMs === 1 ? `must be greater than 0, got ${formatDuration(ms)}` : `must be at least ${formatDuration(minMs)}, got ${formatDuration(ms)}`);
      return INVALID;
    }
    if (ms > maxMs) {
      report(`must be at most ${formatDuration(maxMs)}, got ${formatDuration(ms)}`);
      return INVALID;
    }
    return ms;
  };
}

const cronExpression: Check<string> = (input, report) => {
  if (typeof input === 'string' && validateCron(input)) return input;
  let hint = '';
  if (typeof input === 'string') {
    const fields = input.trim() === '' ? 0 : input.trim().split(/\s+/).length;
    if (fields !== 5 && fields !== 6 && !input.trim().startsWith('@')) {
      hint = ` (${fields} field${fields === 1 ? '' : 's'})`;
    } else {
      const bad = validateCronDetailed(input).errors.find((e) => e.field !== 'expression' && e.value !== undefined);
      if (bad !== undefined) hint = ` (invalid ${bad.field} field ${JSON.stringify(bad.value)})`;
    }
  }
  report(`expected a cron expression of 5 or 6 fields like "*/5 * * * *", got ${describeValue(input)}${hint}`);
  return INVALID;
};

const filePath: Check<string> = (input, report) => {
  if (typeof input === 'string' && input !== '') return input;
  report(`expected a file path, got ${describeValue(input)}`);
  return INVALID;
};

// `http://host:port`, `https://user:pass@[::1]:3128/`: a scheme, a host, an explicit port.
const PROXY_URL_RE = /^https?:\/\/(?:[^@/?#\s]*@)?(?:\[[0-9A-Fa-f:.]+\]|[^@/?#\s:[\]]+):(\d{1,5})\/?$/;

const proxy: Check<string> = (input, report) => {
  if (input === 'env' || input === 'none') return input;
  if (typeof input === 'string') {
    const match = PROXY_URL_RE.exec(input);
    const port = match === null ? 0 : Number(match[1]);
    if (port >= 1 && port <= 65535 && URL.canParse(input)) return input;
  }
  report(`expected env, none or a URL like http://proxy.example:3128, got ${describeValue(input)}`);
  return INVALID;
};

/** A proxy of the `proxies` list: always a URL. */
const proxyUrl: Check<string> = (input, report) => {
  if (typeof input === 'string') {
    const match = PROXY_URL_RE.exec(input);
    const port = match === null ? 0 : Number(match[1]);
    if (port >= 1 && port <= 65535 && URL.canParse(input)) return input;
  }
  report(`expected a URL like http://proxy.example:3128, got ${describeValue(input)}`);
  return INVALID;
};

/** A path name: becomes the `path` label, so short and plain. */
const PATH_NAME_RE = /^[a-z0-9][a-z0-9_.-]{0,31}$/;
const pathName: Check<string> = (input, report) => {
  if (typeof input === 'string' && PATH_NAME_RE.test(input) && input !== 'direct' && input !== 'system') return input;
  report(`expected a name of up to 32 lower-case letters, digits, '.', '_' or '-', other than direct and system, got ${describeValue(input)}`);
  return INVALID;
};

const issuerName: Check<string> = (input, report) => {
  if (typeof input === 'string' && input.trim() !== '' && input.length <= 128) return input.trim();
  report(`expected an issuer organisation or common name (1 to 128 characters), got ${describeValue(input)}`);
  return INVALID;
};

const bool: Check<boolean> = (input, report) => {
  if (typeof input === 'boolean') return input;
  report(`expected true or false, got ${describeValue(input)}`);
  return INVALID;
};

// ---------------------------------------------------------------------------
// Addresses

function isIPv4(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text);
}

function isIPv6(text: string): boolean {
  return !text.includes('%') && ipaddr.IPv6.isValid(text);
}

function parsePort(text: string | undefined, fallback: number): number | null {
  if (text === undefined) return fallback;
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
}

/** `ip`, `ip:port`, `[v6]`, `[v6]:port` or a bare v6 address; port 53 by default. */
export function parseResolverAddress(text: string): ResolverAddress | null {
  let ip: string;
  let port: number | null;
  let v6: boolean;
  const bracketed = /^\[([^\]]*)\](?::(\d*))?$/.exec(text);
  const v4WithPort = /^([^:]*):(\d*)$/.exec(text);
  if (bracketed !== null) {
    [ip, port, v6] = [bracketed[1] ?? '', parsePort(bracketed[2], DEFAULTS.dnsPort), true];
  } else if (v4WithPort !== null) {
    [ip, port, v6] = [v4WithPort[1] ?? '', parsePort(v4WithPort[2], DEFAULTS.dnsPort), false];
  } else {
    v6 = text.includes(':');
    [ip, port] = [text, DEFAULTS.dnsPort];
  }
  if (port === null) return null;
  if (v6) {
    if (!isIPv6(ip)) return null;
    ip = ipaddr.IPv6.parse(ip).toString();
    return { name: `[${ip}]:${port}`, ip, port };
  }
  if (!isIPv4(ip)) return null;
  return { name: `${ip}:${port}`, ip, port };
}

/** A CIDR normalised to its network address: `104.16.1.1/13` -> `104.16.0.0/13`. */
export function normaliseCidr(text: string): string | null {
  const match = /^([^/]+)\/(0|[1-9]\d{0,2})$/.exec(text);
  if (match === null) return null;
  const [, ip = '', prefixText = ''] = match;
  const prefix = Number(prefixText);
  if (isIPv4(ip) && prefix <= 32) return `${ipaddr.IPv4.networkAddressFromCIDR(`${ip}/${prefix}`).toString()}/${prefix}`;
  if (isIPv6(ip) && prefix <= 128) return `${ipaddr.IPv6.networkAddressFromCIDR(`${ip}/${prefix}`).toString()}/${prefix}`;
  return null;
}

const HOST_LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A DNS name (lower-cased, trailing dot stripped) or an IP literal (IPv6
 * normalised, brackets dropped). Returns null for anything else.
 */
export function normaliseHost(text: string): string | null {
  let host = text.endsWith('.') ? text.slice(0, -1) : text;
  if (host.startsWith('[') && host.endsWith(']')) {
    const inner = host.slice(1, -1);
    return isIPv6(inner) ? ipaddr.IPv6.parse(inner).toString() : null;
  }
  if (isIPv4(host)) return host;
  if (isIPv6(host)) return ipaddr.IPv6.parse(host).toString();
  host = host.toLowerCase();
  if (host.length === 0 || host.length > 253) return null;
  const labels = host.split('.');
  if (!labels.every((label) => HOST_LABEL_RE.test(label))) return null;
  // An all-numeric last label reads as a (malformed) IPv4 address, not a name.
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return null;
  return host;
}

function hostHint(text: string): string {
  if (text.includes('://')) return ' (a URL: give only its host)';
  if (text.includes('*')) return ' (wildcards cannot be probed)';
  if (/^[^:]+:\d+$/.test(text) || /^\[.*\]:\d+$/.test(text)) return ' (put the port in port:)';
  if (text.includes('/')) return ' (give only the host, no path)';
  return '';
}

const host: Check<string> = (input, report) => {
  const normalised = typeof input === 'string' ? normaliseHost(input) : null;
  if (normalised !== null) return normalised;
  report(`expected a host name or IP address, got ${describeValue(input)}${typeof input === 'string' ? hostHint(input) : ''}`);
  return INVALID;
};

// ---------------------------------------------------------------------------
// Lists

/**
 * Checks a list item by item; `what` names the items in `expected a list of <what>`.
 * Items keep their positions (a bad or repeated item leaves a hole) so that the
 * cross-key checks can name `key[i]`; holes only exist when an issue was reported.
 */
function listOf<T>(what: string, item: Check<T>, identity: (value: T) => string = String): Check<T[]> {
  return (input, report) => {
    if (!Array.isArray(input)) {
      report(`expected a list of ${what}, got ${describeValue(input)}`);
      return INVALID;
    }
    const seen = new Set<string>();
    return input.map((element: unknown, i): T => {
      const value = item(element, (message, subpath = [], at) => report(message, [i, ...subpath], at));
      if (value === INVALID) return undefined as T;
      const id = identity(value);
      if (seen.has(id)) {
        report(`${typeof value === 'string' ? JSON.stringify(id) : id} is listed twice`, [i]);
        return undefined as T;
      }
      seen.add(id);
      return value;
    });
  };
}

/** A non-empty list of distinct values out of `allowed`, in the order of `allowed`. */
function enumSet<T extends string>(allowed: readonly T[]): Check<T[]> {
  const list = listOf(oneOf(allowed), enumValue(allowed));
  return (input, report) => {
    if (Array.isArray(input) && input.length === 0) {
      report(`expected a non-empty list of ${oneOf(allowed)}, got an empty list`);
      return INVALID;
    }
    if (!Array.isArray(input)) {
      report(`expected a non-empty list of ${oneOf(allowed)}, got ${describeValue(input)}`);
      return INVALID;
    }
    const values = list(input, report);
    // Canonical order, holes dropped.
    return values === INVALID ? INVALID : allowed.filter((value) => values.includes(value));
  };
}

/** Histogram bucket bounds: positive numbers of seconds, strictly increasing. */
const bucketList: Check<number[]> = (input, report) => {
  if (!Array.isArray(input) || input.length === 0) {
    report(`expected a non-empty list of bucket bounds in seconds, got ${Array.isArray(input) ? 'an empty list' : describeValue(input)}`);
    return INVALID;
  }
  let ok = true;
  input.forEach((value: unknown, i) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      report(`expected a positive number of seconds, got ${describeValue(value)}`, [i]);
      ok = false;
    } else if (i > 0 && typeof input[i - 1] === 'number' && value <= (input[i - 1] as number)) {
      report(`bucket bounds must increase: ${value} follows ${input[i - 1] as number}`, [i]);
      ok = false;
    }
  });
  return ok ? (input as number[]) : INVALID;
};

const resolverAddress: Check<ResolverAddress> = (input, report) => {
  const address = typeof input === 'string' ? parseResolverAddress(input) : null;
  if (address !== null) return address;
  report(`expected ip[:port], got ${describeValue(input)}`);
  return INVALID;
};

const cidr: Check<string> = (input, report) => {
  const normalised = typeof input === 'string' ? normaliseCidr(input) : null;
  if (normalised !== null) return normalised;
  report(`expected a CIDR like 10.0.0.0/8 or 2001:db8::/32, got ${describeValue(input)}`);
  return INVALID;
};

/** Exclude entries are matched against the catalog later, so any name-like string goes. */
const excludedHost: Check<string> = (input, report) => {
  if (typeof input === 'string' && input.trim() !== '') {
    const name = input.endsWith('.') ? input.slice(0, -1) : input;
    return normaliseHost(name) ?? name.toLowerCase();
  }
  report(`expected a host name, got ${describeValue(input)}`);
  return INVALID;
};

// ---------------------------------------------------------------------------
// Maps of names to strings

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const labels: Check<Record<string, string>> = (input, report) => {
  if (!isPlainObject(input)) {
    report(`expected a mapping of label names to strings, got ${describeValue(input)}`);
    return INVALID;
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(input)) {
    if (!LABEL_NAME_RE.test(name)) {
      report(`expected a label name matching ^[a-zA-Z_][a-zA-Z0-9_]*$, got ${JSON.stringify(name)}`, [], [name]);
      continue;
    }
    if (name.startsWith('__')) {
      report(`expected a label name not starting with __, got ${JSON.stringify(name)}`, [], [name]);
      continue;
    }
    if ((RESERVED_LABEL_NAMES as readonly string[]).includes(name)) {
      report(`expected a label name other than ${oneOf(RESERVED_LABEL_NAMES)}, got ${JSON.stringify(name)}`, [], [name]);
      continue;
    }
    if (typeof value !== 'string') {
      report(`expected a string of at most ${LIMITS.labelValueMaxChars} characters, got ${describeNotString(value)}`, [name]);
      continue;
    }
    const length = [...value].length;
    if (length > LIMITS.labelValueMaxChars) {
      report(`expected a string of at most ${LIMITS.labelValueMaxChars} characters, got ${length} characters`, [name]);
      continue;
    }
    out[name] = value;
  }
  return out;
};

const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const headers: Check<Record<string, string>> = (input, report) => {
  if (!isPlainObject(input)) {
    report(`expected a mapping of header names to values, got ${describeValue(input)}`);
    return INVALID;
  }
  const out: Record<string, string> = {};
  const spelling = new Map<string, string>();
  for (const [name, value] of Object.entries(input)) {
    if (!HEADER_NAME_RE.test(name)) {
      report(`expected a header name, got ${JSON.stringify(name)}`, [], [name]);
      continue;
    }
    const lower = name.toLowerCase();
    const earlier = spelling.get(lower);
    if (earlier !== undefined) {
      report(`${JSON.stringify(earlier)} and ${JSON.stringify(name)} name the same header`, [], [name]);
      continue;
    }
    spelling.set(lower, name);
    if (typeof value !== 'string') {
      report(`expected a string, got ${describeNotString(value)}`, [name]);
      continue;
    }
    out[lower] = value;
  }
  return out;
};

// ---------------------------------------------------------------------------
// Registries (the OCI distribution spec's grammar)

const REPOSITORY_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST_RE = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const PLATFORM_RE = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;

const repository: Check<string> = (input, report) => {
  if (typeof input === 'string' && input.length <= 255 && REPOSITORY_RE.test(input)) return input;
  report(`expected a repository like chainguard/static (lower-case letters and digits, separated by /, '.', '_' or '-'), got ${describeValue(input)}`);
  return INVALID;
};

const reference: Check<string> = (input, report) => {
  if (typeof input === 'string' && (TAG_RE.test(input) || DIGEST_RE.test(input))) return input;
  report(`expected a tag like latest or a digest like sha256:<64 hex digits>, got ${describeNotString(input)}`);
  return INVALID;
};

const platform: Check<string> = (input, report) => {
  if (typeof input === 'string' && PLATFORM_RE.test(input)) return input;
  report(`expected os/architecture[/variant] like linux/amd64, got ${describeValue(input)}`);
  return INVALID;
};

const registryEntrySchema = mapping(
  {
    host: required(host),
    port: withDefault(integer(1, 65535), () => DEFAULTS.port as number),
    repository: withDefault(repository, () => DEFAULTS.registryRepository as string),
    reference: withDefault(reference, () => DEFAULTS.registryReference as string),
    platform: withDefault(platform, () => DEFAULTS.registryPlatform as string),
    // The default depends on docker_config: see toConfig().
    credentials: optional(enumValue(REGISTRY_CREDENTIAL_SOURCES)),
    docker_config: optional(filePath),
  },
  'a mapping with at least a host key',
);

// ---------------------------------------------------------------------------
// The file

const httpMethod: Check<string> = (input, report) => {
  const upper = typeof input === 'string' ? input.toUpperCase() : '';
  if ((HTTP_METHODS as readonly string[]).includes(upper)) return upper;
  report(`expected one of ${oneOf(HTTP_METHODS)}, got ${describeValue(input)}`);
  return INVALID;
};

const httpPath: Check<string> = (input, report) => {
  // No spaces or control characters: a request line could not carry them.
  const clean = typeof input === 'string' && [...input].every((char) => char > ' ' && char !== '\u007f');
  if (typeof input === 'string' && input.startsWith('/') && clean) return input;
  report(`expected a path starting with /, got ${describeValue(input)}`);
  return INVALID;
};

const httpSchema = z.preprocess(
  (input) => (input === null ? undefined : input),
  mapping({
    method: withDefault(httpMethod, () => DEFAULTS.httpMethod as string),
    path: withDefault(httpPath, () => DEFAULTS.httpPath as string),
    expect_status: optional(listOf('status codes', integer(100, 599))),
    expect_headers: optional(headers),
  }).optional(),
);

const targetSchema = mapping(
  {
    host: required(host),
    port: withDefault(integer(1, 65535), () => DEFAULTS.port as number),
    // The default depends on the catalog and the host: see toConfig().
    families: optional(enumSet(FAMILIES)),
    checks: withDefault(enumSet(CHECK_NAMES), () => [...DEFAULTS.checks]),
    labels: withDefault(labels, () => ({})),
    http: httpSchema,
    expected_issuers: optional(listOf('issuer names', issuerName, (name) => name.toLowerCase())),
    private_ca: withDefault(bool, () => false),
  },
  'a mapping with at least a host key',
);

const proxyEntrySchema = mapping(
  {
    name: required(pathName),
    url: required(proxyUrl),
    expect_interception: withDefault(bool, () => false),
  },
  'a mapping with name and url',
);

export const fileSchema = mapping({
  catalog: withDefault(enumValue(CATALOG_NAMES), () => DEFAULTS.catalog),
  // Absent means the default unless schedule is set: see toConfig().
  interval: optional(duration(LIMITS.intervalMinMs, LIMITS.durationMaxMs)),
  schedule: optional(cronExpression),
  timeout: optional(duration(1, LIMITS.durationMaxMs)),
  concurrency: withDefault(integer(LIMITS.concurrencyMin, LIMITS.concurrencyMax), () => DEFAULTS.concurrency),
  dns: section({
    servers: withDefault(listOf('ip[:port]', resolverAddress, (address) => address.name), () => []),
    firewall_refresh_interval: optional(duration(1, LIMITS.durationMaxMs)),
    allowlist_cidrs: withDefault(listOf('CIDRs', cidr), () => []),
    sinkhole_cidrs: optional(listOf('CIDRs', cidr)),
  }),
  tls: section({
    ca_file: optional(filePath),
    public_ca_file: optional(filePath),
    requirements_interval: optional(duration(1, LIMITS.durationMaxMs)),
  }),
  metrics: section({
    histograms: withDefault(listOf(oneOf(HISTOGRAM_NAMES), enumValue(HISTOGRAM_NAMES)), (): HistogramName[] => []),
    buckets: withDefault(bucketList, () => [...LATENCY_BUCKETS]),
  }),
  proxy: withDefault(proxy, () => DEFAULTS.proxy as string),
  proxies: z.preprocess(
    (input) => (input === null ? undefined : input),
    z
      .array(proxyEntrySchema, {
        error: (issue) => (issue.code === 'invalid_type' ? `expected a list of proxies, got ${describeValue(issue.input)}` : undefined),
      })
      .default([]),
  ),
  compare_direct: withDefault(bool, () => false),
  web: section({
    allow_any_target: withDefault(bool, () => false),
  }),
  targets: z.preprocess(
    (input) => (input === null ? undefined : input),
    z
      .array(targetSchema, {
        error: (issue) => (issue.code === 'invalid_type' ? `expected a list of targets, got ${describeValue(issue.input)}` : undefined),
      })
      .default([]),
  ),
  exclude: withDefault(listOf('host names', excludedHost), () => []),
  // Absent: the catalog's registries (resolveRegistries); a list replaces them.
  registries: z.preprocess(
    (input) => (input === null ? undefined : input),
    z
      .array(registryEntrySchema, {
        error: (issue) => (issue.code === 'invalid_type' ? `expected a list of registries, got ${describeValue(issue.input)}` : undefined),
      })
      .optional(),
  ),
});

export type ConfigFile = z.output<typeof fileSchema>;

// ---------------------------------------------------------------------------
// Checks across keys. They run even when some keys are wrong, so every value
// they look at may be missing or malformed: they only trust what they test.

function catalogHost(catalog: CatalogName, hostName: string, port: number): CatalogHost | undefined {
  return getCatalog(catalog).hosts.find((entry) => !entry.wildcard && entry.host === hostName && entry.port === port);
}

function crossChecks(file: Partial<Record<keyof ConfigFile, unknown>>, ctx: z.RefinementCtx): void {
  const issue = (message: string, path: PathSegment[]) => ctx.addIssue({ code: 'custom', message, path });

  const scheduleSet = file.schedule !== undefined;
  if (scheduleSet && file.interval !== undefined) issue('cannot be set together with interval', ['schedule']);

  // timeout < interval, when the interval drives the rounds.
  const interval = file.interval === undefined ? DEFAULTS.intervalMs : file.interval;
  const timeout = file.timeout === undefined ? DEFAULTS.timeoutMs : file.timeout;
  if (!scheduleSet && typeof interval === 'number' && typeof timeout === 'number' && timeout >= interval) {
    const note = file.timeout === undefined ? ' (the default)' : '';
    issue(`must be shorter than interval (${formatDuration(interval)}), got ${formatDuration(timeout)}${note}`, ['timeout']);
  }

  if (Array.isArray(file.proxies)) {
    const names = new Set<string>();
    (file.proxies as unknown[]).forEach((entry, i) => {
      if (!isPlainObject(entry) || typeof entry.name !== 'string') return;
      if (names.has(entry.name)) issue(`${JSON.stringify(entry.name)} is listed twice`, ['proxies', i, 'name']);
      names.add(entry.name);
    });
  }

  const catalog = (CATALOG_NAMES as readonly unknown[]).includes(file.catalog) ? (file.catalog as CatalogName) : null;

  if (catalog !== null && Array.isArray(file.exclude)) {
    const hosts = new Set(getCatalog(catalog).hosts.map((entry) => entry.host));
    (file.exclude as unknown[]).forEach((name, i) => {
      if (typeof name === 'string' && !hosts.has(name)) issue(`${JSON.stringify(name)} is not a host of catalog ${catalog}`, ['exclude', i]);
    });
  }

  if (Array.isArray(file.targets)) {
    const seen = new Set<string>();
    (file.targets as unknown[]).forEach((target, i) => {
      if (!isPlainObject(target)) return;
      const { host: hostName, port, families, http, checks } = target;
      if (typeof hostName === 'string' && typeof port === 'number') {
        const id = hostPort(hostName, port);
        if (seen.has(id)) issue(`${id} is listed twice`, ['targets', i]);
        seen.add(id);
      }
      if (typeof hostName === 'string' && Array.isArray(families)) {
        const family: Family | null = isIPv4(hostName) ? 'v4' : isIPv6(hostName) ? 'v6' : null;
        if (family !== null && (families.length !== 1 || families[0] !== family)) {
          issue(
            `expected [${family}] for an IP${family === 'v4' ? 'v4' : 'v6'} address, got [${(families as unknown[]).map(String).join(', ')}]`,
            ['targets', i, 'families'],
          );
        }
      }
      if (http !== undefined && Array.isArray(checks) && !checks.includes('http')) {
        issue('cannot be set when checks does not include http', ['targets', i, 'http']);
      }
    });
  }

  if (Array.isArray(file.registries)) {
    const seen = new Set<string>();
    (file.registries as unknown[]).forEach((registry, i) => {
      if (!isPlainObject(registry)) return;
      const { host: hostName, port, credentials, docker_config: dockerConfig } = registry;
      if (typeof hostName === 'string' && typeof port === 'number') {
        const id = hostPort(hostName, port);
        if (seen.has(id)) issue(`${id} is listed twice`, ['registries', i]);
        seen.add(id);
      }
      if (dockerConfig !== undefined && typeof credentials === 'string' && credentials !== 'docker_config') {
        issue(`cannot be set when credentials is ${credentials}`, ['registries', i, 'docker_config']);
      }
    });
  }
}

// ---------------------------------------------------------------------------
// From the file's shape to the effective Config

function toHttpExpectation(http: NonNullable<ConfigFile['targets'][number]['http']>): HttpExpectation {
  const out: HttpExpectation = { method: http.method, path: http.path };
  if (http.expect_status !== undefined) out.expectStatus = http.expect_status;
  if (http.expect_headers !== undefined) out.expectHeaders = http.expect_headers;
  return out;
}

function toRegistryConfig(registry: NonNullable<ConfigFile['registries']>[number]): RegistryConfig {
  const credentials = registry.credentials ?? (registry.docker_config !== undefined ? 'docker_config' : 'anonymous');
  const { host: hostName, port, repository: repo, reference: ref, platform: plat } = registry;
  return { host: hostName, port, repository: repo, reference: ref, platform: plat, credentials, dockerConfig: registry.docker_config ?? null };
}

export function toConfig(file: ConfigFile): Config {
  const targets = file.targets.map((target): TargetConfig => {
    const listed = catalogHost(file.catalog, target.host, target.port);
    const families: Family[] = target.families ?? (listed !== undefined ? [...listed.families] : isIPv6(target.host) ? ['v6'] : ['v4']);
    const out: TargetConfig = { host: target.host, port: target.port, families, checks: [...target.checks] as CheckName[], labels: target.labels };
    if (target.http !== undefined) out.http = toHttpExpectation(target.http);
    if (target.expected_issuers !== undefined) out.expectedIssuers = target.expected_issuers;
    if (target.private_ca) out.privateCa = true;
    return out;
  });
  return {
    catalog: file.catalog,
    intervalMs: file.interval ?? DEFAULTS.intervalMs,
    schedule: file.schedule ?? null,
    timeoutMs: file.timeout ?? DEFAULTS.timeoutMs,
    concurrency: file.concurrency,
    dns: {
      servers: file.dns.servers,
      firewallRefreshIntervalMs: file.dns.firewall_refresh_interval ?? null,
      allowlistCidrs: file.dns.allowlist_cidrs,
      sinkholeCidrs: file.dns.sinkhole_cidrs ?? null,
    },
    tls: { caFile: file.tls.ca_file ?? null, publicCaFile: file.tls.public_ca_file ?? null, requirementsIntervalMs: file.tls.requirements_interval ?? DEFAULTS.requirementsIntervalMs },
    metrics: { histograms: HISTOGRAM_NAMES.filter((name) => file.metrics.histograms.includes(name)), buckets: file.metrics.buckets },
    proxy: file.proxy,
    proxies: file.proxies.map((p) => ({ name: p.name, url: p.url, expectInterception: p.expect_interception })),
    compareDirect: file.compare_direct,
    web: { allowAnyTarget: file.web.allow_any_target },
    targets,
    exclude: file.exclude,
    registries: file.registries === undefined ? null : file.registries.map(toRegistryConfig),
  };
}

/** The whole file: structure, leaves, cross-key checks, then the effective Config. */
export const configSchema = fileSchema
  .superRefine((file, ctx) => crossChecks(file as Partial<Record<keyof ConfigFile, unknown>>, ctx), { when: () => true })
  .transform(toConfig);
