import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Secret,
  credentialsFromDockerConfig,
  credentialsFromEnv,
  defaultDockerConfigPath,
  describeExpiry,
  loadRegistryCredentials,
  passwordExpiry,
} from './registry-credentials.js';
import type { RegistryCredentials } from './registry-credentials.js';

const PASSWORD = 'hunter2-very-secret';
const b64 = (text: string) => Buffer.from(text).toString('base64');
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** An unsigned-looking JWT: only the claims matter here. */
const jwt = (claims: Record<string, unknown>) => `${b64url({ alg: 'ES256', typ: 'JWT' })}.${b64url(claims)}.c2lnbmF0dXJl`;

/** Nothing a caller might print holds the secret. */
function expectNoSecret(result: RegistryCredentials | undefined, secret: string): void {
  const text = [JSON.stringify(result), inspect(result, { depth: 10 }), String(result?.ok ? result.credential.password : '')].join('\n');
  expect(text).not.toContain(secret);
  expect(text).not.toContain(b64(`user:${secret}`));
}

describe('Secret', () => {
  it('prints, serialises and inspects as <secret>, and reveals on request only', () => {
    const s = new Secret(PASSWORD);
    expect(`${String(s)} ${JSON.stringify({ s })} ${inspect({ s })}`).not.toContain(PASSWORD);
    expect(JSON.stringify({ s })).toBe('{"s":"<secret>"}');
    expect(s.reveal()).toBe(PASSWORD);
  });
});

describe('passwordExpiry', () => {
  it('reads exp and iat of a JWT without verifying it', () => {
    expect(passwordExpiry(jwt({ exp: 1_900_000_000, iat: 1_800_000_000, sub: 'x' }))).toEqual({ kind: 'jwt', expiresAtSeconds: 1_900_000_000, issuedAtSeconds: 1_800_000_000 });
    expect(passwordExpiry(jwt({ sub: 'x' }))).toEqual({ kind: 'jwt_without_exp' });
  });

  it('anything else is not a JWT', () => {
    for (const value of [PASSWORD, 'a.b.c', `${b64url({ typ: 'JWT' })}.${b64url({ exp: 1 })}.sig`, `${b64url({ alg: 'none' })}.${b64url([1])}.sig`, 'x..y', '']) {
      expect(passwordExpiry(value)).toEqual({ kind: 'not_jwt' });
    }
  });

  it('says when it expires, or that it cannot tell', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(describeExpiry({ kind: 'jwt', expiresAtSeconds: now / 1000 + 3 * 86400 }, now)).toBe('the password is a JWT that expires at 2026-01-04T00:00:00.000Z (in 3.0 days)');
    expect(describeExpiry({ kind: 'jwt', expiresAtSeconds: now / 1000 - 60 }, now)).toBe('the password is a JWT that expired at 2025-12-31T23:59:00.000Z');
    expect(describeExpiry({ kind: 'not_jwt' }, now)).toBe('the password is not a JWT: its expiry cannot be read');
  });
});

describe('credentialsFromDockerConfig', () => {
  const path = '/home/ci/.docker/config.json';
  const read = (doc: unknown, host = 'cgr.dev', port = 443) => credentialsFromDockerConfig(typeof doc === 'string' ? doc : JSON.stringify(doc), host, port, path);

  it('decodes the auths entry of the registry, under any of the names Docker writes', () => {
    const token = jwt({ exp: 1_900_000_000 });
    for (const key of ['cgr.dev', 'https://cgr.dev', 'https://cgr.dev/v2/', 'cgr.dev:443']) {
      const r = read({ auths: { 'ghcr.io': { auth: b64('x:y') }, [key]: { auth: b64(`pull-id/abc:${token}`) } } });
      expect(r).toMatchObject({ ok: true, credential: { username: 'pull-id/abc', source: 'docker_config', expiry: { kind: 'jwt', expiresAtSeconds: 1_900_000_000 } } });
      if (r.ok) {
        expect(r.credential.password.reveal()).toBe(token);
        expect(r.credential.origin).toBe(`${path} (auths.${JSON.stringify(key)})`);
      }
    }
    const split = read({ auths: { 'cache.example.com:8443': { username: 'u', password: PASSWORD } } }, 'cache.example.com', 8443);
    expect(split).toMatchObject({ ok: true, credential: { username: 'u', expiry: { kind: 'not_jwt' } } });
    expectNoSecret(split, PASSWORD);
  });

  it('an inline entry wins over credsStore, as docker login without a store writes it', () => {
    expect(read({ credsStore: 'desktop', auths: { 'cgr.dev': { auth: b64(`user:${PASSWORD}`) } } })).toMatchObject({ ok: true });
  });

  it('reports helpers, stores and identity tokens as unsupported, without running them', () => {
    expect(read({ credHelpers: { 'cgr.dev': 'cgr' }, auths: { 'cgr.dev': { auth: b64('u:p') } } })).toEqual({
      ok: false,
      source: 'docker_config',
      unsupported: true,
      problem: `${path}: credHelpers."cgr.dev" names a credential helper docker-credential-cgr, which the exporter does not run; give the credentials in auths or through EGRESS_REGISTRY_USERNAME`,
    });
    expect(read({ credsStore: 'desktop', auths: { 'cgr.dev': {} } })).toMatchObject({
      ok: false,
      unsupported: true,
      problem: `${path}: credsStore "desktop" keeps the credentials for cgr.dev in docker-credential-desktop, which the exporter does not run; give them in auths or through EGRESS_REGISTRY_USERNAME`,
    });
    expect(read({ auths: { 'cgr.dev': { identitytoken: 'refresh-me' } } })).toMatchObject({ ok: false, unsupported: true });
  });

  it('names what is wrong with the file, never a value from it', () => {
    const cases: Array<[unknown, string]> = [
      [`{"auths": {"cgr.dev": {"auth": "${PASSWORD}"`, `${path}: not valid JSON`],
      [[], `${path}: expected a JSON object at the top level`],
      [{ auths: { 'ghcr.io': {}, 'https://index.docker.io/v1/': {} } }, `${path}: no auths entry for cgr.dev (auths has ghcr.io, index.docker.io)`],
      [{}, `${path}: no auths entry for cgr.dev (auths is empty)`],
      [{ auths: { 'cgr.dev': { auth: b64(PASSWORD) } } }, `${path}: auths."cgr.dev".auth: expected base64 of username:password`],
      [{ auths: { 'cgr.dev': { auth: `${PASSWORD}!` } } }, `${path}: auths."cgr.dev".auth: expected base64 of username:password`],
      [{ auths: { 'cgr.dev': { username: 'u' } } }, `${path}: auths."cgr.dev": expected both username and password`],
      [{ auths: { 'cgr.dev': { auth: b64(`:${PASSWORD}`) } } }, `${path}: auths."cgr.dev": the username is empty`],
      [{ auths: { 'cgr.dev': { auth: b64('u:') } } }, `${path}: auths."cgr.dev": the password is empty`],
      [{ auths: { 'cgr.dev': 'x' } }, `${path}: auths."cgr.dev": expected an object`],
    ];
    for (const [doc, problem] of cases) {
      const r = read(doc);
      expect(r).toEqual({ ok: false, source: 'docker_config', unsupported: false, problem });
      expectNoSecret(r, PASSWORD);
    }
  });

  it('finds Docker Hub under its old index URL', () => {
    expect(read({ auths: { 'https://index.docker.io/v1/': { auth: b64('u:p') } } }, 'registry-1.docker.io')).toMatchObject({ ok: true });
  });
});

describe('credentialsFromEnv', () => {
  const files: Record<string, string> = { '/run/secrets/pull': `${PASSWORD}\n`, '/run/secrets/empty': '\n', '/run/secrets/two': 'a\nb\n' };
  const readText = (path: string) => {
    const text = files[path];
    return text === undefined ? Promise.reject(Object.assign(new Error('nope'), { code: 'ENOENT' })) : Promise.resolve(text);
  };

  it('takes the username with the password or the first line of the password file', async () => {
    const direct = await credentialsFromEnv({ EGRESS_REGISTRY_USERNAME: 'u', EGRESS_REGISTRY_PASSWORD: PASSWORD }, readText);
    expect(direct).toMatchObject({ ok: true, credential: { username: 'u', source: 'env', origin: 'EGRESS_REGISTRY_PASSWORD' } });
    const fromFile = await credentialsFromEnv({ EGRESS_REGISTRY_USERNAME: 'u', EGRESS_REGISTRY_PASSWORD_FILE: '/run/secrets/pull' }, readText);
    expect(fromFile).toMatchObject({ ok: true, credential: { origin: 'EGRESS_REGISTRY_PASSWORD_FILE (/run/secrets/pull)' } });
    if (fromFile.ok) expect(fromFile.credential.password.reveal()).toBe(PASSWORD);
    expectNoSecret(fromFile, PASSWORD);
  });

  it('says which variable is missing or contradicts another', async () => {
    const problem = async (env: NodeJS.ProcessEnv) => {
      const r = await credentialsFromEnv(env, readText);
      expectNoSecret(r, PASSWORD);
      return r.ok ? 'ok' : r.problem;
    };
    expect(await problem({})).toBe('EGRESS_REGISTRY_USERNAME is not set');
    expect(await problem({ EGRESS_REGISTRY_USERNAME: 'u' })).toBe('EGRESS_REGISTRY_USERNAME is set but neither EGRESS_REGISTRY_PASSWORD nor EGRESS_REGISTRY_PASSWORD_FILE is');
    expect(await problem({ EGRESS_REGISTRY_USERNAME: 'u', EGRESS_REGISTRY_PASSWORD: PASSWORD, EGRESS_REGISTRY_PASSWORD_FILE: '/run/secrets/pull' })).toBe(
      'set only one of EGRESS_REGISTRY_PASSWORD and EGRESS_REGISTRY_PASSWORD_FILE',
    );
    expect(await problem({ EGRESS_REGISTRY_USERNAME: 'u', EGRESS_REGISTRY_PASSWORD_FILE: '/run/secrets/missing' })).toBe(
      'EGRESS_REGISTRY_PASSWORD_FILE: cannot read "/run/secrets/missing": no such file or directory (ENOENT)',
    );
    expect(await problem({ EGRESS_REGISTRY_USERNAME: 'u', EGRESS_REGISTRY_PASSWORD_FILE: '/run/secrets/empty' })).toBe('EGRESS_REGISTRY_PASSWORD_FILE: "/run/secrets/empty" is empty');
    expect(await problem({ EGRESS_REGISTRY_USERNAME: 'u', EGRESS_REGISTRY_PASSWORD_FILE: '/run/secrets/two' })).toBe('EGRESS_REGISTRY_PASSWORD_FILE: "/run/secrets/two" holds more than one line');
    expect(await problem({ EGRESS_REGISTRY_USERNAME: 'a:b', EGRESS_REGISTRY_PASSWORD: PASSWORD })).toBe('EGRESS_REGISTRY_USERNAME: the username contains a colon or a control character');
  });
});

describe('loadRegistryCredentials', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'egress-creds-'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { 'cgr.dev': { auth: b64(`u:${PASSWORD}`) } } }));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('anonymous needs nothing; docker_config reads the file given, or Docker\'s own location', async () => {
    expect(await loadRegistryCredentials({ host: 'cgr.dev', port: 443, credentials: 'anonymous', dockerConfig: null })).toBeUndefined();
    const given = await loadRegistryCredentials({ host: 'cgr.dev', port: 443, credentials: 'docker_config', dockerConfig: join(dir, 'config.json') });
    expect(given).toMatchObject({ ok: true, credential: { username: 'u' } });
    const viaEnv = await loadRegistryCredentials({ host: 'cgr.dev', port: 443, credentials: 'docker_config', dockerConfig: null }, { env: { DOCKER_CONFIG: dir } });
    expect(viaEnv).toMatchObject({ ok: true });
    const missing = await loadRegistryCredentials({ host: 'cgr.dev', port: 443, credentials: 'docker_config', dockerConfig: null }, { env: {}, homedir: join(dir, 'nobody') });
    expect(missing).toEqual({
      ok: false,
      source: 'docker_config',
      unsupported: false,
      problem: `cannot read the Docker config "${join(dir, 'nobody', '.docker', 'config.json')}": no such file or directory (ENOENT)`,
    });
    expect(defaultDockerConfigPath({}, '/home/me')).toBe('/home/me/.docker/config.json');
  });

  it('env reads the variables of the environment given', async () => {
    const r = await loadRegistryCredentials({ host: 'cgr.dev', port: 443, credentials: 'env', dockerConfig: null }, { env: { EGRESS_REGISTRY_USERNAME: 'u', EGRESS_REGISTRY_PASSWORD: PASSWORD } });
    expect(r).toMatchObject({ ok: true, credential: { source: 'env' } });
  });
});
