// Credentials for the registry check, from the two places a pull reads them:
// a Docker config.json (its `auths` entry for the registry) or the environment
// (EGRESS_REGISTRY_USERNAME with EGRESS_REGISTRY_PASSWORD or
// EGRESS_REGISTRY_PASSWORD_FILE). They are read on every round, so a rotated pull
// token is picked up without a reload.
//
// What is not supported is said, not worked around: a credential helper
// (`credHelpers`, `credsStore`) is never run, and an identity token is not exchanged.
//
// Secrets: the password is held in a Secret, which prints, logs and serialises as
// `<secret>`. Problems name files, keys and variables, never a value: JSON.parse's own
// message is not quoted either (V8 quotes the text around the error).
//
// A password that is a JWT (a Chainguard pull token is) has its `exp` read, without
// verifying the signature: only the expiry is wanted, to warn before it passes.
import { readFile as fsReadFile } from 'node:fs/promises';
import { homedir as osHomedir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describeFsError } from './yaml-file.js';
import type { RegistryCredentialSource } from './types.js';

/** A value that must never be printed: every way of turning it into text gives `<secret>`. */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value itself: only for the Authorization header. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '<secret>';
  }

  toJSON(): string {
    return '<secret>';
  }

  [inspect.custom](): string {
    return '<secret>';
  }
}

export const ENV_USERNAME = 'EGRESS_REGISTRY_USERNAME';
export const ENV_PASSWORD = 'EGRESS_REGISTRY_PASSWORD';
export const ENV_PASSWORD_FILE = 'EGRESS_REGISTRY_PASSWORD_FILE';

/** What the password says about its own expiry. */
export type PasswordExpiry =
  | { kind: 'jwt'; expiresAtSeconds: number; issuedAtSeconds?: number }
  | { kind: 'jwt_without_exp' }
  | { kind: 'not_jwt' };

export interface RegistryCredential {
  username: string;
  password: Secret;
  source: Exclude<RegistryCredentialSource, 'anonymous'>;
  /** Where it was read, for messages: a variable, or a file and its key. Never a value. */
  origin: string;
  expiry: PasswordExpiry;
}

export type RegistryCredentials =
  | { ok: true; credential: RegistryCredential }
  | {
      ok: false;
      source: Exclude<RegistryCredentialSource, 'anonymous'>;
      /** A credential helper or an identity token: there, but this exporter does not use it. */
      unsupported: boolean;
      /** What is wrong, naming files, keys and variables; never a value. */
      problem: string;
    };

const MAX_USERNAME_CHARS = 256;
/** A Docker config larger than this is not one. */
const MAX_DOCKER_CONFIG_BYTES = 1024 * 1024;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function base64UrlJson(part: string): unknown {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(part)) return undefined;
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Reads the expiry of a JWT (header.payload.signature, base64url JSON header with
 * `alg`) without verifying it. Anything else is `not_jwt`.
 */
export function passwordExpiry(password: string): PasswordExpiry {
  const parts = password.trim().split('.');
  if (parts.length !== 3 || parts.some((p) => p === '')) return { kind: 'not_jwt' };
  const header = base64UrlJson(parts[0]!);
  const payload = base64UrlJson(parts[1]!);
  if (!isPlainObject(header) || typeof header.alg !== 'string' || !isPlainObject(payload)) return { kind: 'not_jwt' };
  const { exp, iat } = payload;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return { kind: 'jwt_without_exp' };
  const out: PasswordExpiry = { kind: 'jwt', expiresAtSeconds: exp };
  if (typeof iat === 'number' && Number.isFinite(iat)) out.issuedAtSeconds = iat;
  return out;
}

/** One line about the expiry, for messages and the check command. */
export function describeExpiry(expiry: PasswordExpiry, nowMs: number = Date.now()): string {
  switch (expiry.kind) {
    case 'jwt': {
      const at = new Date(expiry.expiresAtSeconds * 1000).toISOString();
      const days = (expiry.expiresAtSeconds * 1000 - nowMs) / 86_400_000;
      return days < 0 ? `the password is a JWT that expired at ${at}` : `the password is a JWT that expires at ${at} (in ${days.toFixed(1)} days)`;
    }
    case 'jwt_without_exp':
      return 'the password is a JWT without an exp claim: its expiry is unknown';
    case 'not_jwt':
      return 'the password is not a JWT: its expiry cannot be read';
  }
}

function credential(username: string, password: string, source: RegistryCredential['source'], origin: string): RegistryCredentials {
  return { ok: true, credential: { username, password: new Secret(password), source, origin, expiry: passwordExpiry(password) } };
}

function checkUsername(username: string, where: string): string | undefined {
  if (username === '') return `${where}: the username is empty`;
  if ([...username].length > MAX_USERNAME_CHARS) return `${where}: the username is longer than ${MAX_USERNAME_CHARS} characters`;
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\u0000-\u001f\u007f:]/.test(username)) return `${where}: the username contains a colon or a control character`;
  return undefined;
}

/** The names Docker files a registry under in `auths` and `credHelpers`: `host`, or `host:port` off 443. */
export function dockerConfigKeys(host: string, port: number): string[] {
  const bare = host.toLowerCase();
  const keys = port === 443 ? [bare, `${bare}:443`] : [`${bare}:${port}`];
  // Docker Hub's credentials live under its old index URL.
  if (port === 443 && (bare === 'docker.io' || bare === 'registry-1.docker.io' || bare === 'index.docker.io')) keys.push('index.docker.io');
  return keys;
}

/** `https://cgr.dev/v1/` -> `cgr.dev`, as Docker normalises `auths` keys. */
function normaliseDockerKey(key: string): string {
  return key.replace(/^https?:\/\//i, '').split('/')[0]!.toLowerCase();
}

function findEntry(map: Record<string, unknown>, keys: readonly string[]): { key: string; value: unknown } | undefined {
  for (const [key, value] of Object.entries(map)) {
    if (keys.includes(normaliseDockerKey(key))) return { key, value };
  }
  return undefined;
}

/**
 * The credentials for host:port in the text of a Docker config.json found at `path`.
 * Docker's order: a `credHelpers` entry for the host, then `credsStore`, then the
 * `auths` entry; an inline `auths` entry is used even when `credsStore` is set (it is
 * what `docker login` writes without a store, and what a CI step writes by hand).
 */
export function credentialsFromDockerConfig(text: string, host: string, port: number, path: string): RegistryCredentials {
  const fail = (problem: string, unsupported = false): RegistryCredentials => ({ ok: false, source: 'docker_config', unsupported, problem: `${path}: ${problem}` });
  let doc: unknown;
  try {
    doc = JSON.parse(text) as unknown;
  } catch {
    return fail('not valid JSON');
  }
  if (!isPlainObject(doc)) return fail('expected a JSON object at the top level');
  const keys = dockerConfigKeys(host, port);
  const name = keys[0]!;

  if (isPlainObject(doc.credHelpers)) {
    const helper = findEntry(doc.credHelpers, keys);
    if (helper !== undefined) {
      const which = typeof helper.value === 'string' ? ` docker-credential-${helper.value.replace(/[^A-Za-z0-9_.-]/g, '?').slice(0, 40)}` : '';
      return fail(`credHelpers.${JSON.stringify(helper.key)} names a credential helper${which}, which the exporter does not run; give the credentials in auths or through ${ENV_USERNAME}`, true);
    }
  }
  const auths = isPlainObject(doc.auths) ? doc.auths : {};
  const entry = findEntry(auths, keys);
  const at = entry === undefined ? '' : `auths.${JSON.stringify(entry.key)}`;
  const inline = entry !== undefined && isPlainObject(entry.value) ? entry.value : undefined;
  const hasInline = inline !== undefined && (typeof inline.auth === 'string' || typeof inline.username === 'string' || typeof inline.password === 'string');

  if (!hasInline && typeof doc.credsStore === 'string' && doc.credsStore !== '') {
    const store = doc.credsStore.replace(/[^A-Za-z0-9_.-]/g, '?').slice(0, 40);
    return fail(`credsStore ${JSON.stringify(store)} keeps the credentials for ${name} in docker-credential-${store}, which the exporter does not run; give them in auths or through ${ENV_USERNAME}`, true);
  }
  if (entry === undefined) {
    const known = Object.keys(auths).map(normaliseDockerKey).slice(0, 5);
    return fail(`no auths entry for ${name}${known.length > 0 ? ` (auths has ${known.join(', ')})` : ' (auths is empty)'}`);
  }
  if (inline === undefined) return fail(`${at}: expected an object`);
  if (typeof inline.identitytoken === 'string' && inline.identitytoken !== '') {
    return fail(`${at} holds an identity token (an OAuth refresh token), which the exporter does not exchange; give a username and password instead`, true);
  }
  let username: string;
  let password: string;
  if (typeof inline.auth === 'string' && inline.auth !== '') {
    const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(inline.auth) ? Buffer.from(inline.auth, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon < 0) return fail(`${at}.auth: expected base64 of username:password`);
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  } else if (typeof inline.username === 'string' || typeof inline.password === 'string') {
    if (typeof inline.username !== 'string' || typeof inline.password !== 'string') return fail(`${at}: expected both username and password`);
    username = inline.username;
    password = inline.password;
  } else {
    return fail(`${at} has neither auth nor username and password`);
  }
  const bad = checkUsername(username, at);
  if (bad !== undefined) return fail(bad);
  if (password === '') return fail(`${at}: the password is empty`);
  return credential(username, password, 'docker_config', `${path} (${at})`);
}

export type ReadText = (path: string) => Promise<string>;

/** The environment's credentials. Set the username and exactly one of the password variables. */
export async function credentialsFromEnv(env: NodeJS.ProcessEnv, readText: ReadText): Promise<RegistryCredentials> {
  const fail = (problem: string): RegistryCredentials => ({ ok: false, source: 'env', unsupported: false, problem });
  const username = env[ENV_USERNAME];
  const password = env[ENV_PASSWORD];
  const passwordFile = env[ENV_PASSWORD_FILE];
  const hasPassword = password !== undefined && password !== '';
  const hasFile = passwordFile !== undefined && passwordFile !== '';
  if (username === undefined || username === '') return fail(`${ENV_USERNAME} is not set`);
  const bad = checkUsername(username, ENV_USERNAME);
  if (bad !== undefined) return fail(bad);
  if (hasPassword && hasFile) return fail(`set only one of ${ENV_PASSWORD} and ${ENV_PASSWORD_FILE}`);
  if (hasPassword) return credential(username, password, 'env', ENV_PASSWORD);
  if (!hasFile) return fail(`${ENV_USERNAME} is set but neither ${ENV_PASSWORD} nor ${ENV_PASSWORD_FILE} is`);
  let text: string;
  try {
    text = await readText(passwordFile);
  } catch (err) {
    return fail(`${ENV_PASSWORD_FILE}: cannot read ${JSON.stringify(passwordFile)}: ${describeFsError(err)}`);
  }
  // A secret file usually ends with a newline that is not part of the password.
  const fromFile = text.replace(/\r?\n$/, '');
  if (fromFile === '') return fail(`${ENV_PASSWORD_FILE}: ${JSON.stringify(passwordFile)} is empty`);
  if (/[\r\n]/.test(fromFile)) return fail(`${ENV_PASSWORD_FILE}: ${JSON.stringify(passwordFile)} holds more than one line`);
  return credential(username, fromFile, 'env', `${ENV_PASSWORD_FILE} (${passwordFile})`);
}

/** Where Docker itself reads its config: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function defaultDockerConfigPath(env: NodeJS.ProcessEnv, homedir: string): string {
  const dir = env.DOCKER_CONFIG;
  return dir !== undefined && dir !== '' ? join(dir, 'config.json') : join(homedir, '.docker', 'config.json');
}

export interface CredentialSourceConfig {
  host: string;
  port: number;
  credentials: RegistryCredentialSource;
  /** null: Docker's own location (defaultDockerConfigPath). */
  dockerConfig: string | null;
}

export interface CredentialIo {
  env?: NodeJS.ProcessEnv;
  readText?: ReadText;
  homedir?: string;
}

async function readBounded(path: string): Promise<string> {
  const buf = await fsReadFile(path);
  if (buf.length > MAX_DOCKER_CONFIG_BYTES) throw Object.assign(new Error(`larger than ${MAX_DOCKER_CONFIG_BYTES} bytes`), { code: 'EFBIG' });
  return buf.toString('utf8');
}

/** The credentials a registry entry asks for; undefined for anonymous pulls. Never throws. */
export async function loadRegistryCredentials(registry: CredentialSourceConfig, io: CredentialIo = {}): Promise<RegistryCredentials | undefined> {
  const env = io.env ?? process.env;
  const readText = io.readText ?? readBounded;
  switch (registry.credentials) {
    case 'anonymous':
      return undefined;
    case 'env':
      return credentialsFromEnv(env, readText);
    case 'docker_config': {
      const path = registry.dockerConfig ?? defaultDockerConfigPath(env, io.homedir ?? osHomedir());
      let text: string;
      try {
        text = await readText(path);
      } catch (err) {
        return { ok: false, source: 'docker_config', unsupported: false, problem: `cannot read the Docker config ${JSON.stringify(path)}: ${describeFsError(err)}` };
      }
      return credentialsFromDockerConfig(text, registry.host, registry.port, path);
    }
  }
}
