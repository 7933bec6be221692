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
// This file reads and checks the settings (with the kit of config/reader.ts);
// web-tls.ts loads the files they name, web-server.ts serves with the result
// (and reads it again on reload), basic-auth.ts checks the users' passwords.
import { dirname, resolve } from 'node:path';
import { bool, describeValue, enumValue, filePath, leaf, mapping, mappingOf, Problems, Value } from '../config/reader.js';
import type { Fields } from '../config/reader.js';
import { FileProblemsError, parseYamlMapping, readConfigText } from '../config/yaml-file.js';
import { bcryptHashProblem } from './basic-auth.js';
import { CLIENT_AUTH_TYPES, loadTlsFiles, TLS_VERSIONS } from './web-tls.js';
import type { ClientAuthType, TlsSettings, WebTlsConfig } from './web-tls.js';

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

export class WebConfigError extends FileProblemsError {
  /** Stable, for callers that branch on the kind of error. */
  readonly code = 'EGRESS_WEB_CONFIG_INVALID';
  override readonly name = 'WebConfigError';
}

/** The headers exporter-toolkit lets a user set, with the values allowed (empty: any). */
const CONFIGURABLE_HEADERS: Readonly<Record<string, readonly string[]>> = {
  'Content-Security-Policy': [],
  'Strict-Transport-Security': [],
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': [],
};

const NOT_SUPPORTED = 'not supported by egress-exporter';

/** exporter-toolkit client_auth_type values that egress-exporter does not implement. */
const UNSUPPORTED_CLIENT_AUTH_TYPES = ['RequestClientCert', 'RequireAnyClientCert', 'RequireClientCert', 'VerifyClientCertIfGiven'];

const clientAuthType = leaf(
  CLIENT_AUTH_TYPES.join(' or '),
  (input) => ((CLIENT_AUTH_TYPES as readonly unknown[]).includes(input) ? (input as ClientAuthType) : undefined),
  (input) => `${describeValue(input)}${typeof input === 'string' && UNSUPPORTED_CLIENT_AUTH_TYPES.includes(input) ? ` (${input} is ${NOT_SUPPORTED})` : ''}`,
);

const tlsVersion = enumValue(TLS_VERSIONS);

/** tls_server_config as written: every key may be unset. */
const tlsSection = mapping(
  'a mapping',
  (tls: Fields) => ({
    certFile: tls.at('cert_file').read(filePath),
    keyFile: tls.at('key_file').read(filePath),
    clientCaFile: tls.at('client_ca_file').read(filePath),
    minVersion: tls.at('min_version').read(tlsVersion),
    maxVersion: tls.at('max_version').read(tlsVersion),
    clientAuthType: tls.at('client_auth_type').read(clientAuthType),
    preferServerCipherSuites: tls.at('prefer_server_cipher_suites').read(bool),
  }),
  {
    cert: `${NOT_SUPPORTED}: put the certificate in a file and use cert_file`,
    key: `${NOT_SUPPORTED}: put the private key in a file and use key_file`,
    client_ca: `${NOT_SUPPORTED}: put the CA certificates in a file and use client_ca_file`,
    cipher_suites: `${NOT_SUPPORTED}: Node.js chooses the cipher suites; remove the key`,
    curve_preferences: `${NOT_SUPPORTED}: Node.js chooses the key exchange groups; remove the key`,
    client_allowed_sans: NOT_SUPPORTED,
  },
);

/** The settings of a tls_server_config read without a problem; undefined when none is set (plain HTTP) or they do not fit together (reported). */
function tlsSettings(section: Value, raw: NonNullable<ReturnType<typeof tlsSection>>): TlsSettings | undefined {
  if (Object.values(raw).every((value) => value === undefined)) return undefined;
  // Listed in this order, where the section is in the file.
  const fail = (key: string, message: string) => section.fail(message, [key], []);
  const { certFile, keyFile, clientCaFile } = raw;
  if (certFile === undefined) fail('cert_file', 'required');
  if (keyFile === undefined) fail('key_file', 'required');
  const minVersion = raw.minVersion ?? 'TLS12';
  const maxVersion = raw.maxVersion ?? 'TLS13';
  if (TLS_VERSIONS.indexOf(minVersion) > TLS_VERSIONS.indexOf(maxVersion)) fail('min_version', `must not be above max_version (${maxVersion}), got ${minVersion}`);
  const auth = raw.clientAuthType ?? 'NoClientCert';
  if (auth === 'RequireAndVerifyClientCert' && clientCaFile === undefined) fail('client_ca_file', 'required when client_auth_type is RequireAndVerifyClientCert');
  if (auth === 'NoClientCert' && clientCaFile !== undefined) fail('client_ca_file', 'set, but client_auth_type is NoClientCert: set client_auth_type: RequireAndVerifyClientCert');
  if (!section.ok || certFile === undefined || keyFile === undefined) return undefined;
  return { certFile, keyFile, minVersion, maxVersion, clientAuthType: auth, clientCaFile: clientCaFile ?? null, preferServerCipherSuites: raw.preferServerCipherSuites ?? true };
}

const headers = mappingOf('a mapping of header names to values', (name, value): string | undefined => {
  const allowed = Object.hasOwn(CONFIGURABLE_HEADERS, name) ? CONFIGURABLE_HEADERS[name] : undefined;
  const text = value.input;
  if (allowed === undefined) return value.fail(`cannot be configured: expected one of ${Object.keys(CONFIGURABLE_HEADERS).join(', ')}`);
  if (typeof text !== 'string' || text === '') return value.fail(`expected a string, got ${describeValue(text)}`);
  if (allowed.length > 0 && !allowed.includes(text)) return value.fail(`expected one of ${allowed.join(', ')}, got ${describeValue(text)}`);
  if (/[\r\n\0]/.test(text)) return value.fail('must not contain line breaks');
  return text;
});

const httpSection = mapping('a mapping', (http: Fields) => {
  // exporter-toolkit turns HTTP/2 off with `http2: false`; egress-exporter
  // serves HTTP/1.1 either way, so both values are accepted.
  http.at('http2').read(bool);
  return http.at('headers').read(headers);
});

const users = mappingOf('a mapping of user names to bcrypt hashes', (user, hash): string | undefined => {
  if (user === '' || user.includes(':')) return hash.fail('a user name must not be empty nor contain ":" (HTTP basic auth cannot carry it)');
  const problem = bcryptHashProblem(hash.input);
  return problem === undefined ? (hash.input as string) : hash.fail(problem);
});

const webConfigFile = mapping(
  'a mapping',
  (file: Fields) => {
    const tls = file.at('tls_server_config');
    const raw = tls.read(tlsSection);
    return {
      // The checks across keys only once each key is right.
      tls: raw === undefined || !tls.ok ? undefined : tlsSettings(tls, raw),
      headers: file.at('http_server_config').read(httpSection) ?? {},
      users: new Map(Object.entries(file.at('basic_auth_users').read(users) ?? {})),
    };
  },
  { rate_limit: NOT_SUPPORTED },
);

/**
 * Reads and validates a web config file and the files it names (web-tls.ts).
 * Throws a WebConfigError listing every problem.
 */
export async function loadWebConfig(file: string): Promise<WebConfig> {
  const { doc, value } = parseYamlMapping(await readConfigText(file, 'web config file', WebConfigError), file, WebConfigError);
  const problems = new Problems();
  const read = new Value(value, [], problems).read(webConfigFile);
  if (read === undefined || problems.count > 0) throw new WebConfigError(problems.lines(file, doc));
  const tls = read.tls === undefined ? null : await loadTlsFiles(read.tls, dirname(resolve(file)), problems);
  if (tls === undefined) throw new WebConfigError(problems.lines(file));
  return { file, tls, headers: read.headers, basicAuthUsers: read.users };
}
