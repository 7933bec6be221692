// --web.config.file: the Prometheus exporter-toolkit web configuration (TLS and
// basic auth for every endpoint), read strictly, with every problem reported at
// once as `<file>: <key.path>: <what is wrong>`, like the main config file.
//
//   tls_server_config:
//     cert_file: server.pem          # relative paths are relative to this file
//     key_file: server.key
//     min_version: TLS12             # TLS10, TLS11, TLS12 (default), TLS13
//     max_version: TLS13             # default TLS13
//     client_auth_type: NoClientCert # or RequireAndVerifyClientCert (needs client_ca_file)
//     client_ca_file: clients-ca.pem
//     prefer_server_cipher_suites: true
//   http_server_config:
//     http2: true                    # accepted for compatibility; HTTP/1.1 is served
//     headers:                       # the exporter-toolkit's five security headers
//       X-Frame-Options: deny
//   basic_auth_users:
//     prometheus: $2y$10$...         # bcrypt hashes (htpasswd -nBC 10 "" | tr -d ':\n')
//
// Keys of the exporter-toolkit format that egress-exporter does not implement
// (inline cert/key/client_ca, cipher_suites, curve_preferences,
// client_allowed_sans, rate_limit) are rejected with a message saying so,
// rather than silently ignored: a security setting that does nothing is worse
// than an error.
//
// This file reads and checks; web-server.ts serves with the result (and reads
// it again on reload), basic-auth.ts checks the users' passwords.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type https from 'node:https';
import { dirname, resolve } from 'node:path';
import tls from 'node:tls';
import { parseDocument } from 'yaml';
import { describeValue, formatPath } from '../config/reader.js';
import { describeFsError } from '../config/yaml-file.js';

// ---------------------------------------------------------------------------
// Types

export const TLS_VERSIONS = ['TLS10', 'TLS11', 'TLS12', 'TLS13'] as const;
export type TlsVersionName = (typeof TLS_VERSIONS)[number];

/** Node's names for the exporter-toolkit's versions. */
export const NODE_TLS_VERSIONS: Record<TlsVersionName, tls.SecureVersion> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

export const CLIENT_AUTH_TYPES = ['NoClientCert', 'RequireAndVerifyClientCert'] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

/** exporter-toolkit client_auth_type values that egress-exporter does not implement. */
const UNSUPPORTED_CLIENT_AUTH_TYPES = ['RequestClientCert', 'RequireAnyClientCert', 'RequireClientCert', 'VerifyClientCertIfGiven'];

/** The headers exporter-toolkit lets a user set, with the values allowed (empty: any). */
export const CONFIGURABLE_HEADERS: Readonly<Record<string, readonly string[]>> = {
  'Content-Security-Policy': [],
  'Strict-Transport-Security': [],
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': [],
};

export interface WebTlsConfig {
  /** Absolute paths (relative ones are resolved against the web config file's directory). */
  certFile: string;
  keyFile: string;
  /** PEM text read from the files: the certificate (and chain) and the private key. */
  cert: string;
  key: string;
  minVersion: TlsVersionName;
  maxVersion: TlsVersionName;
  clientAuthType: ClientAuthType;
  clientCaFile: string | null;
  /** PEM text of client_ca_file. */
  clientCa: string | null;
  preferServerCipherSuites: boolean;
}

export interface WebConfig {
  /** The file it was read from, as given. */
  file: string;
  /** null: plain HTTP. */
  tls: WebTlsConfig | null;
  /** Added to every response. */
  headers: Readonly<Record<string, string>>;
  /** User name -> bcrypt hash. Empty: no authentication. */
  basicAuthUsers: ReadonlyMap<string, string>;
}

export class WebConfigError extends Error {
  /** Stable, for callers that branch on the kind of error. */
  readonly code = 'EGRESS_WEB_CONFIG_INVALID';
  /** One line per problem, each starting with the file name. */
  readonly problems: string[];

  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.name = 'WebConfigError';
    this.problems = problems;
  }
}

// ---------------------------------------------------------------------------
// Parsing

type Path = Array<string | number>;

/** Collects problems as `<file>: <path>: <message>`, in the order they are found (file order). */
class Problems {
  readonly list: string[] = [];
  constructor(private readonly file: string) {}
  add(path: Path, message: string): void {
    this.list.push(path.length === 0 ? `${this.file}: ${message}` : `${this.file}: ${formatPath(path)}: ${message}`);
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

const isUnset = (value: unknown): value is null | undefined => value === null || value === undefined;

const NOT_SUPPORTED = 'not supported by egress-exporter';

/**
 * Checks a mapping's keys: each known key goes to its handler (in file order),
 * unsupported keys and unknown keys are reported. Returns false when `value`
 * is not a mapping at all.
 */
function walkMapping(
  value: unknown,
  path: Path,
  problems: Problems,
  known: Record<string, (value: unknown, path: Path) => void>,
  unsupported: Record<string, string> = {},
): boolean {
  if (!isMapping(value)) {
    problems.add(path, `expected a mapping, got ${describeValue(value)}`);
    return false;
  }
  for (const [key, child] of Object.entries(value)) {
    const handler = Object.hasOwn(known, key) ? known[key] : undefined;
    const hint = Object.hasOwn(unsupported, key) ? unsupported[key] : undefined;
    if (handler !== undefined) handler(child, [...path, key]);
    else if (hint !== undefined) problems.add([...path, key], hint === '' ? NOT_SUPPORTED : `${NOT_SUPPORTED}: ${hint}`);
    else problems.add([...path, key], 'unknown key');
  }
  return true;
}

function stringValue(value: unknown, path: Path, problems: Problems, what: string): string | undefined {
  if (isUnset(value)) return undefined;
  if (typeof value !== 'string' || value === '') {
    problems.add(path, `expected ${what}, got ${describeValue(value)}`);
    return undefined;
  }
  return value;
}

function booleanValue(value: unknown, path: Path, problems: Problems): boolean | undefined {
  if (isUnset(value)) return undefined;
  if (typeof value !== 'boolean') {
    problems.add(path, `expected true or false, got ${describeValue(value)}`);
    return undefined;
  }
  return value;
}

function tlsVersion(value: unknown, path: Path, problems: Problems): TlsVersionName | undefined {
  if (isUnset(value)) return undefined;
  if (typeof value === 'string' && (TLS_VERSIONS as readonly string[]).includes(value)) return value as TlsVersionName;
  problems.add(path, `expected one of ${TLS_VERSIONS.join(', ')}, got ${describeValue(value)}`);
  return undefined;
}

/** `$2a$`, `$2b$` or `$2y$`, a two-digit cost, then 22 characters of salt and 31 of hash. */
const BCRYPT_HASH = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
export const BCRYPT_MIN_COST = 4;
export const BCRYPT_MAX_COST = 31;

interface RawTls {
  certFile?: string;
  keyFile?: string;
  minVersion?: TlsVersionName;
  maxVersion?: TlsVersionName;
  clientAuthType?: ClientAuthType;
  clientCaFile?: string;
  preferServerCipherSuites?: boolean;
  /** Some key of the section was set: TLS is wanted. */
  present: boolean;
  /** A key had a structural problem: skip the cross-key and file checks that depend on it. */
  broken: boolean;
}

function parseTlsSection(value: unknown, path: Path, problems: Problems): RawTls {
  const raw: RawTls = { present: false, broken: false };
  if (isUnset(value)) return raw;
  const before = problems.list.length;
  const file = (key: 'certFile' | 'keyFile' | 'clientCaFile') => (child: unknown, at: Path) => {
    raw[key] = stringValue(child, at, problems, 'a file path');
  };
  const isMap = walkMapping(
    value,
    path,
    problems,
    {
      cert_file: file('certFile'),
      key_file: file('keyFile'),
      client_ca_file: file('clientCaFile'),
      min_version: (child, at) => {
        raw.minVersion = tlsVersion(child, at, problems);
      },
      max_version: (child, at) => {
        raw.maxVersion = tlsVersion(child, at, problems);
      },
      client_auth_type: (child, at) => {
        if (isUnset(child)) return;
        if (typeof child === 'string' && (CLIENT_AUTH_TYPES as readonly string[]).includes(child)) {
          raw.clientAuthType = child as ClientAuthType;
          return;
        }
        const note = typeof child === 'string' && UNSUPPORTED_CLIENT_AUTH_TYPES.includes(child) ? ` (${child} is ${NOT_SUPPORTED})` : '';
        problems.add(at, `expected ${CLIENT_AUTH_TYPES.join(' or ')}, got ${describeValue(child)}${note}`);
      },
      prefer_server_cipher_suites: (child, at) => {
        raw.preferServerCipherSuites = booleanValue(child, at, problems);
      },
    },
    {
      cert: 'put the certificate in a file and use cert_file',
      key: 'put the private key in a file and use key_file',
      client_ca: 'put the CA certificates in a file and use client_ca_file',
      cipher_suites: 'Node.js chooses the cipher suites; remove the key',
      curve_preferences: 'Node.js chooses the key exchange groups; remove the key',
      client_allowed_sans: '',
    },
  );
  raw.broken = problems.list.length > before;
  raw.present = isMap && Object.values(value as Record<string, unknown>).some((child) => !isUnset(child));
  if (raw.broken || !raw.present) return raw;

  if (raw.certFile === undefined) problems.add([...path, 'cert_file'], 'required');
  if (raw.keyFile === undefined) problems.add([...path, 'key_file'], 'required');
  const min = raw.minVersion ?? 'TLS12';
  const max = raw.maxVersion ?? 'TLS13';
  if (TLS_VERSIONS.indexOf(min) > TLS_VERSIONS.indexOf(max)) {
    problems.add([...path, 'min_version'], `must not be above max_version (${max}), got ${min}`);
  }
  const auth = raw.clientAuthType ?? 'NoClientCert';
  if (auth === 'RequireAndVerifyClientCert' && raw.clientCaFile === undefined) {
    problems.add([...path, 'client_ca_file'], 'required when client_auth_type is RequireAndVerifyClientCert');
  }
  if (auth === 'NoClientCert' && raw.clientCaFile !== undefined) {
    problems.add([...path, 'client_ca_file'], 'set, but client_auth_type is NoClientCert: set client_auth_type: RequireAndVerifyClientCert');
  }
  raw.broken = problems.list.length > before;
  return raw;
}

function parseHttpSection(value: unknown, path: Path, problems: Problems): Record<string, string> {
  const headers: Record<string, string> = {};
  if (isUnset(value)) return headers;
  walkMapping(
    value,
    path,
    problems,
    {
      // exporter-toolkit turns HTTP/2 off with `http2: false`; egress-exporter
      // serves HTTP/1.1 either way, so both values are accepted.
      http2: (child, at) => void booleanValue(child, at, problems),
      headers: (child, at) => {
        if (isUnset(child)) return;
        if (!isMapping(child)) {
          problems.add(at, `expected a mapping of header names to values, got ${describeValue(child)}`);
          return;
        }
        for (const [name, headerValue] of Object.entries(child)) {
          const allowed = Object.hasOwn(CONFIGURABLE_HEADERS, name) ? CONFIGURABLE_HEADERS[name] : undefined;
          if (allowed === undefined) {
            problems.add([...at, name], `cannot be configured: expected one of ${Object.keys(CONFIGURABLE_HEADERS).join(', ')}`);
          } else if (typeof headerValue !== 'string' || headerValue === '') {
            problems.add([...at, name], `expected a string, got ${describeValue(headerValue)}`);
          } else if (allowed.length > 0 && !allowed.includes(headerValue)) {
            problems.add([...at, name], `expected one of ${allowed.join(', ')}, got ${describeValue(headerValue)}`);
          } else if (/[\r\n\0]/.test(headerValue)) {
            problems.add([...at, name], 'must not contain line breaks');
          } else {
            headers[name] = headerValue;
          }
        }
      },
    },
  );
  return headers;
}

function parseUsers(value: unknown, path: Path, problems: Problems): Map<string, string> {
  const users = new Map<string, string>();
  if (isUnset(value)) return users;
  if (!isMapping(value)) {
    problems.add(path, `expected a mapping of user names to bcrypt hashes, got ${describeValue(value)}`);
    return users;
  }
  for (const [user, hash] of Object.entries(value)) {
    const at = [...path, user];
    if (user === '' || user.includes(':')) {
      problems.add(at, 'a user name must not be empty nor contain ":" (HTTP basic auth cannot carry it)');
      continue;
    }
    // The value is never echoed: someone may have put a plain password here.
    const match = typeof hash === 'string' ? BCRYPT_HASH.exec(hash) : null;
    if (match === null) {
      problems.add(at, 'expected a bcrypt hash ($2a$, $2b$ or $2y$, a cost, then 53 characters), got something else (not shown: it may be a password)');
      continue;
    }
    const cost = Number(match[1]);
    if (cost < BCRYPT_MIN_COST || cost > BCRYPT_MAX_COST) {
      problems.add(at, `expected a bcrypt cost from ${BCRYPT_MIN_COST} to ${BCRYPT_MAX_COST}, got ${cost}`);
      continue;
    }
    users.set(user, hash as string);
  }
  return users;
}

/** The yaml library's reason without its own ` at line L, column C:` and excerpt. */
function yamlReason(error: { code: string; message: string }): string {
  if (error.code === 'MULTIPLE_DOCS') return 'expected a single document, found several (---)';
  return error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '').trim();
}

/**
 * Parses the text of a web config file; `file` names it in messages and is the
 * base of relative paths. The certificate files are not read: see loadWebConfig.
 * Returns the structure, or throws a WebConfigError listing every problem.
 */
function parseWebConfigText(text: string, file: string): { raw: RawTls | null; headers: Record<string, string>; users: Map<string, string> } {
  const problems = new Problems(file);
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new WebConfigError(
      doc.errors.map((error) => {
        const at = error.linePos?.[0];
        return `${file}: invalid YAML${at ? ` at line ${at.line}, column ${at.col}` : ''}: ${yamlReason(error)}`;
      }),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new WebConfigError([`${file}: invalid YAML: ${err instanceof Error ? err.message : String(err)}`]);
  }
  if (isUnset(value)) value = {};
  if (!isMapping(value)) throw new WebConfigError([`${file}: expected a mapping at the top level, got ${describeValue(value)}`]);

  let raw: RawTls | null = null;
  let headers: Record<string, string> = {};
  let users = new Map<string, string>();
  walkMapping(
    value,
    [],
    problems,
    {
      tls_server_config: (child, at) => {
        raw = parseTlsSection(child, at, problems);
      },
      http_server_config: (child, at) => {
        headers = parseHttpSection(child, at, problems);
      },
      basic_auth_users: (child, at) => {
        users = parseUsers(child, at, problems);
      },
    },
    { rate_limit: '' },
  );
  if (problems.list.length > 0) throw new WebConfigError(problems.list);
  return { raw, headers, users };
}

// ---------------------------------------------------------------------------
// Loading the files a web config names

async function readPem(path: Path, file: string, problems: Problems): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    problems.add(path, `cannot read ${JSON.stringify(file)}: ${describeFsError(err)}`);
    return undefined;
  }
}

function firstCertificate(pem: string, path: Path, file: string, problems: Problems): X509Certificate | undefined {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    problems.add(path, `expected PEM certificates (-----BEGIN CERTIFICATE-----), got none in ${JSON.stringify(file)}`);
    return undefined;
  }
  try {
    return new X509Certificate(pem);
  } catch (err) {
    problems.add(path, `cannot parse the certificate in ${JSON.stringify(file)}: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

function privateKey(pem: string, path: Path, file: string, problems: Problems): KeyObject | undefined {
  if (pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /Proc-Type: 4,ENCRYPTED/.test(pem)) {
    problems.add(path, `the private key in ${JSON.stringify(file)} is encrypted: egress-exporter needs it unencrypted`);
    return undefined;
  }
  if (!/-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/.test(pem)) {
    problems.add(path, `expected a PEM private key (-----BEGIN PRIVATE KEY-----), got none in ${JSON.stringify(file)}`);
    return undefined;
  }
  try {
    return createPrivateKey(pem);
  } catch (err) {
    problems.add(path, `cannot parse the private key in ${JSON.stringify(file)}: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

/** The options of `https.createServer` (and `server.setSecureContext`) for a TLS config. */
export function tlsServerOptions(config: WebTlsConfig): https.ServerOptions {
  const verifyClients = config.clientAuthType === 'RequireAndVerifyClientCert';
  return {
    cert: config.cert,
    key: config.key,
    minVersion: NODE_TLS_VERSIONS[config.minVersion],
    maxVersion: NODE_TLS_VERSIONS[config.maxVersion],
    honorCipherOrder: config.preferServerCipherSuites,
    requestCert: verifyClients,
    rejectUnauthorized: verifyClients,
    ...(verifyClients && config.clientCa !== null ? { ca: config.clientCa } : {}),
  };
}

/**
 * Reads and validates a web config file and the files it names: each must be
 * readable, the certificate and key PEM, the key the certificate's, and the
 * whole accepted by Node's TLS. Throws a WebConfigError listing every problem.
 */
export async function loadWebConfig(file: string): Promise<WebConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new WebConfigError([`${file}: cannot read the web config file: ${describeFsError(err)}`]);
  }
  const { raw: tlsRaw, headers, users } = parseWebConfigText(text, file);
  const web: WebConfig = { file, tls: null, headers, basicAuthUsers: users };
  if (tlsRaw === null || !tlsRaw.present || tlsRaw.certFile === undefined || tlsRaw.keyFile === undefined) return web;

  const problems = new Problems(file);
  const section = ['tls_server_config'];
  const base = dirname(resolve(file));
  const certFile = resolve(base, tlsRaw.certFile);
  const keyFile = resolve(base, tlsRaw.keyFile);
  const clientCaFile = tlsRaw.clientCaFile === undefined ? null : resolve(base, tlsRaw.clientCaFile);

  const certPem = await readPem([...section, 'cert_file'], certFile, problems);
  const cert = certPem === undefined ? undefined : firstCertificate(certPem, [...section, 'cert_file'], certFile, problems);
  const keyPem = await readPem([...section, 'key_file'], keyFile, problems);
  const key = keyPem === undefined ? undefined : privateKey(keyPem, [...section, 'key_file'], keyFile, problems);
  if (cert !== undefined && key !== undefined && !cert.checkPrivateKey(key)) {
    problems.add(
      [...section, 'key_file'],
      `the private key in ${JSON.stringify(keyFile)} does not match the certificate in ${JSON.stringify(certFile)}`,
    );
  }
  let clientCa: string | null = null;
  if (clientCaFile !== null) {
    const pem = await readPem([...section, 'client_ca_file'], clientCaFile, problems);
    if (pem !== undefined && firstCertificate(pem, [...section, 'client_ca_file'], clientCaFile, problems) !== undefined) clientCa = pem;
  }
  if (problems.list.length > 0 || certPem === undefined || keyPem === undefined) throw new WebConfigError(problems.list);

  const tlsConfig: WebTlsConfig = {
    certFile,
    keyFile,
    cert: certPem,
    key: keyPem,
    minVersion: tlsRaw.minVersion ?? 'TLS12',
    maxVersion: tlsRaw.maxVersion ?? 'TLS13',
    clientAuthType: tlsRaw.clientAuthType ?? 'NoClientCert',
    clientCaFile,
    clientCa,
    preferServerCipherSuites: tlsRaw.preferServerCipherSuites ?? true,
  };
  // Whatever else Node's TLS refuses (a chain it cannot use, a version its
  // OpenSSL lacks) shows now rather than at the first connection.
  try {
    tls.createSecureContext(tlsServerOptions(tlsConfig));
  } catch (err) {
    throw new WebConfigError([`${file}: tls_server_config: ${err instanceof Error ? err.message : String(err)}`]);
  }
  web.tls = tlsConfig;
  return web;
}
