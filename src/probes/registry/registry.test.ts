import { inspect } from 'node:util';
import type { RegistryImage } from '../../model/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOB_HOST_NAME, REGISTRY_NAME, REPOSITORY, loopbackDialFactory, startRegistryFixture } from '../../../test/fixtures/registry-server.js';
import type { RegistryFixture, RegistryFixtureOptions } from '../../../test/fixtures/registry-server.js';
import { getPki } from '../../../test/fixtures/pki.js';
import type { Pki } from '../../../test/fixtures/pki.js';
import { startProxy } from '../../../test/fixtures/proxies.js';
import type { ProxyFixtureOptions, RunningProxy } from '../../../test/fixtures/proxies.js';
import { refusedPort, startRawServer } from '../../../test/fixtures/tls-servers.js';
import { startOrigin } from '../../../test/fixtures/http-servers.js';
import { eventually, timed } from '../../../test/helpers/timing.js';
import { credentialsFromDockerConfig, credentialsFromEnv } from '../../config/registry-credentials.js';
import type { RegistryCredentials } from '../../config/registry-credentials.js';
import { proxyDial } from '../net/proxy.js';
import { boundedHost, probeRegistry, redactUrl, registryName } from './registry.js';
import type { RegistryProbeOptions, RegistryResult } from './registry.js';
import type { DialFactory } from '../types.js';

const PASSWORD = 'pull-token-secret-Xy9';
const USER = 'ci-puller';

let pki: Pki;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  pki = await getPki();
});

afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
});

async function fixture(options: RegistryFixtureOptions = {}): Promise<RegistryFixture> {
  const fx = await startRegistryFixture(options);
  closers.push(fx.close);
  return fx;
}

async function proxy(fx: RegistryFixture, options: Omit<ProxyFixtureOptions, 'map'>): Promise<RunningProxy> {
  const p = await startProxy({ ...options, map: fx.ports });
  closers.push(p.close);
  return p;
}

function target(fx: RegistryFixture, over: Partial<RegistryImage> = {}): RegistryImage {
  return { host: REGISTRY_NAME, port: fx.registryPort, repository: REPOSITORY, reference: 'latest', platform: 'linux/amd64', ...over };
}

/** `deadlineMs`: the deadline the check's signal carries (the one deadline of the check). */
async function probe(fx: RegistryFixture, over: Partial<RegistryImage> = {}, options: Partial<RegistryProbeOptions> = {}, deadlineMs = 20_000): Promise<RegistryResult> {
  const { result } = await timed(deadlineMs, (signal) => probeRegistry(target(fx, over), { dialFor: fx.dialFor, ca: [pki.rootCa], ...options }, signal));
  return result;
}

function viaProxy(p: RunningProxy): Partial<RegistryProbeOptions> {
  const spec = { name: 'corp', url: new URL(p.url) };
  return { dialFor: (host, port) => proxyDial(spec, host, port), viaProxy: true };
}

const envCredentials = (password: string, username = USER): Promise<RegistryCredentials> =>
  credentialsFromEnv({ EGRESS_REGISTRY_USERNAME: username, EGRESS_REGISTRY_PASSWORD: password }, () => Promise.reject(new Error('no files')));

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (claims: Record<string, unknown>) => `${b64url({ alg: 'ES256', typ: 'JWT' })}.${b64url(claims)}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk`;

/** Nothing the caller could log, export or show holds a secret. */
function expectNoLeak(result: RegistryResult, fx: RegistryFixture, ...secrets: string[]): void {
  const text = `${JSON.stringify(result)}\n${inspect(result, { depth: 20 })}`;
  for (const secret of [...secrets, ...secrets.map((s) => Buffer.from(`${USER}:${s}`).toString('base64')), ...fx.tokens]) {
    expect(text).not.toContain(secret);
  }
  expect(text).not.toMatch(/X-Amz-Signature=[a-f0-9]/);
}

describe('helpers', () => {
  it('names a registry by host, with the port off 443', () => {
    expect(registryName('cgr.dev', 443)).toBe('cgr.dev');
    expect(registryName('cache.example.com', 8443)).toBe('cache.example.com:8443');
    expect(registryName('::1', 5000)).toBe('[::1]:5000');
  });

  it('redacts query values but a token request\'s service and scope', () => {
    expect(redactUrl(new URL('https://u:p@blob.example/a/b?X-Amz-Signature=abc&X-Amz-Expires=600'))).toBe('https://blob.example/a/b?X-Amz-Signature=<redacted>&X-Amz-Expires=<redacted>');
    expect(redactUrl(new URL('https://cgr.dev/token?service=cgr.dev&scope=repository:chainguard/static:pull&account=me'))).toBe(
      'https://cgr.dev/token?service=cgr.dev&scope=repository%3Achainguard%2Fstatic%3Apull&account=<redacted>',
    );
  });

  it('bounds a blob host to a plain hostname', () => {
    expect(boundedHost('9236A389.R2.cloudflarestorage.com')).toBe('9236a389.r2.cloudflarestorage.com');
    expect(boundedHost('[::1]')).toBe('::1');
    expect(boundedHost(`${'a'.repeat(300)}.example`)).toHaveLength(253);
  });
});

describe('probeRegistry, direct', () => {
  it('anonymous pull: ping, token, index then the amd64 manifest, a 307 to the blob host on its own connection, the first bytes', async () => {
    const fx = await fixture();
    const r = await probe(fx);
    expect(r).toMatchObject({ ok: true, registry: `cgr.dev:${fx.registryPort}`, auth: 'bearer', blobHost: BLOB_HOST_NAME, blobServedBy: 'redirect' });
    expect(r.reason).toBeUndefined();
    expect(r.failedStep).toBeUndefined();
    expect(Object.keys(r.steps)).toEqual(['ping', 'token', 'manifest', 'blob_redirect', 'blob_first_byte']);
    expect(r.steps).toMatchObject({
      ping: { ok: true, status: 401 },
      token: { ok: true, status: 200 },
      manifest: { ok: true, status: 200 },
      blob_redirect: { ok: true },
      blob_first_byte: { ok: true, status: 206 },
    });
    for (const step of Object.values(r.steps)) expect(step.seconds).toBeGreaterThan(0);
    // The config blob is the smallest: read whole, its digest checked.
    expect(r.manifest).toEqual({
      digest: fx.image.amd64.digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      platform: 'linux/amd64',
      blobDigest: fx.image.amd64.configDigest,
      blobSize: fx.image.amd64.configSize,
      blobVerified: true,
    });
    expect(r.tokenExpiresAtSeconds).toBeGreaterThan(Date.now() / 1000 + 250);
    expect(r.credential).toBeUndefined();

    // What went where: the token asked for pull scope; the blob host got a Range and no Authorization.
    const paths = fx.requests.map((q) => `${q.server} ${q.path.replace(/\?.*$/, '?...')}`);
    expect(paths).toEqual([
      'registry /v2/',
      'registry /token?...',
      'registry /v2/chainguard/static/manifests/latest',
      `registry /v2/chainguard/static/manifests/${fx.image.amd64.digest}`,
      `registry /v2/chainguard/static/blobs/${fx.image.amd64.configDigest}`,
      `blob /r2/${fx.image.amd64.configDigest.slice(7)}?...`,
    ]);
    expect(new URL(fx.requests[1]!.path, 'https://x').searchParams.get('scope')).toBe('repository:chainguard/static:pull');
    expect(fx.requests[1]!.headers.authorization).toBeUndefined();
    expect(fx.requests[2]!.headers.authorization).toBe(`Bearer ${fx.tokens[0]}`);
    expect(String(fx.requests[2]!.headers.accept)).toContain('application/vnd.oci.image.index.v1+json');
    const blobRequest = fx.requests[5]!;
    expect(blobRequest.headers.authorization).toBeUndefined();
    expect(blobRequest.headers.range).toBe(`bytes=0-${fx.image.amd64.configSize - 1}`);

    // The transcript: a connection per host, each request with the headers that matter.
    const connects = r.transcript.filter((e) => e.kind === 'connect');
    expect(connects.map((c) => [c.step, c.host, c.port, c.ok, c.alpn])).toEqual([
      ['ping', REGISTRY_NAME, fx.registryPort, true, 'h2'],
      ['blob_redirect', BLOB_HOST_NAME, fx.blobPort, true, 'h2'],
    ]);
    for (const c of connects) {
      expect(c.connectSeconds).toBeGreaterThan(0);
      expect(c.tlsSeconds).toBeGreaterThan(0);
    }
    const redirect = r.transcript.find((e) => e.kind === 'request' && e.status === 307);
    expect(redirect).toMatchObject({ step: 'blob_redirect', requestHeaders: { authorization: 'Bearer <redacted>' } });
    if (redirect?.kind === 'request') {
      expect(redirect.responseHeaders.location).toBe(`https://${BLOB_HOST_NAME}:${fx.blobPort}/r2/${fx.image.amd64.configDigest.slice(7)}?X-Amz-Expires=<redacted>&X-Amz-Signature=<redacted>`);
    }
    const challenge = r.transcript.find((e) => e.kind === 'request' && e.step === 'ping');
    if (challenge?.kind === 'request') expect(challenge.responseHeaders['www-authenticate']).toBe(`Bearer realm="https://cgr.dev:${fx.registryPort}/token",service="cgr.dev"`);
    expectNoLeak(r, fx);
    expect(await eventually(() => fx.connections() === 0)).toBe(true);
  });

  it('picks the configured platform from the index, and names the ones it has when it is missing', async () => {
    const fx = await fixture();
    const arm = await probe(fx, { platform: 'linux/arm64/v8' });
    expect(arm).toMatchObject({ ok: true, manifest: { digest: fx.image.arm64Digest, platform: 'linux/arm64/v8' } });
    const missing = await probe(fx, { platform: 'linux/s390x' });
    expect(missing).toMatchObject({ ok: false, failedStep: 'manifest', reason: 'registry_not_found', steps: { manifest: { ok: false, status: 200 } } });
    expect(missing.message).toBe('manifest: the index of chainguard/static:latest has no linux/s390x manifest (it has linux/arm64/v8, linux/amd64, unknown/unknown)');
    expect(missing.steps.blob_redirect).toBeUndefined();
  });

  it('a manifest by digest is fetched and checked against it', async () => {
    const fx = await fixture();
    const r = await probe(fx, { reference: fx.image.amd64.digest });
    expect(r).toMatchObject({ ok: true, manifest: { digest: fx.image.amd64.digest } });
    expect(r.manifest?.platform).toBeUndefined();
  });

  it('a manifest that does not exist: registry_not_found at manifest, with the registry\'s error code', async () => {
    const fx = await fixture();
    const r = await probe(fx, { reference: 'no-such-tag' });
    expect(r).toMatchObject({ ok: false, failedStep: 'manifest', reason: 'registry_not_found', steps: { ping: { ok: true }, token: { ok: true }, manifest: { ok: false, status: 404 } } });
    expect(r.message).toBe('manifest: manifest chainguard/static:no-such-tag not found: 404 (MANIFEST_UNKNOWN: manifest unknown)');
    const repo = await probe(fx, { repository: 'chainguard/nope' });
    expect(repo).toMatchObject({ failedStep: 'manifest', reason: 'registry_not_found' });
    expect(repo.message).toContain('NAME_UNKNOWN');
  });

  it('a registry that serves blobs itself: no redirect step, the first bytes from the registry', async () => {
    const fx = await fixture({ blobs: 'serve' });
    const r = await probe(fx);
    expect(r).toMatchObject({ ok: true, blobServedBy: 'registry', steps: { blob_first_byte: { ok: true, status: 206 } }, manifest: { blobVerified: true } });
    expect(r.blobHost).toBeUndefined();
    expect(r.steps.blob_redirect).toBeUndefined();
    expect(fx.requests.some((q) => q.server === 'blob')).toBe(false);
  });

  it('reads only the first bytes of a blob larger than firstBytes', async () => {
    const fx = await fixture();
    const r = await probe(fx, {}, { firstBytes: 16 });
    expect(r).toMatchObject({ ok: true, steps: { blob_first_byte: { status: 206 } } });
    expect(r.manifest?.blobVerified).toBeUndefined();
    expect(fx.requests.find((q) => q.server === 'blob')?.headers.range).toBe('bytes=0-15');
  });

  it('a registry without auth, and one with basic auth', async () => {
    const open = await fixture({ auth: 'none' });
    const r = await probe(open);
    expect(r).toMatchObject({ ok: true, auth: 'none', steps: { ping: { status: 200 } } });
    expect(r.steps.token).toBeUndefined();

    const basic = await fixture({ auth: 'basic', users: { [USER]: PASSWORD } });
    const anonymous = await probe(basic);
    expect(anonymous).toMatchObject({ ok: false, auth: 'basic', failedStep: 'token', reason: 'registry_auth_failed' });
    expect(anonymous.message).toBe('token: the registry asks for basic auth and no credentials are configured');
    const authed = await probe(basic, {}, { credentials: await envCredentials(PASSWORD) });
    expect(authed).toMatchObject({ ok: true, auth: 'basic' });
    expect(authed.steps.token).toBeUndefined();
    expect(basic.requests.at(-1)?.server).toBe('blob');
    expect(basic.requests.find((q) => q.path.includes('/manifests/'))?.headers.authorization).toBe(`Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`);
    expectNoLeak(authed, basic, PASSWORD);
  });
});

describe('probeRegistry, credentials', () => {
  it('exchanges the credentials for a token with basic auth to the realm; a non-JWT password is said to have no readable expiry', async () => {
    const fx = await fixture({ users: { [USER]: PASSWORD }, anonymous: false });
    const r = await probe(fx, {}, { credentials: await envCredentials(PASSWORD) });
    expect(r).toMatchObject({ ok: true, credential: { source: 'env', username: USER, expiry: 'not_jwt', note: 'the password is not a JWT: its expiry cannot be read' } });
    expect(r.credential?.expiresAtSeconds).toBeUndefined();
    const tokenRequest = fx.requests.find((q) => q.path.startsWith('/token'));
    expect(tokenRequest?.headers.authorization).toBe(`Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`);
    const shown = r.transcript.find((e) => e.kind === 'request' && e.step === 'token');
    expect(shown).toMatchObject({ requestHeaders: { authorization: 'Basic <redacted>' }, status: 200 });
    expectNoLeak(r, fx, PASSWORD);
  });

  it('a JWT pull token: its exp is reported', async () => {
    const exp = Math.floor(Date.now() / 1000) + 20 * 86_400;
    const token = jwt({ exp, iss: 'https://issuer.enforce.dev', sub: 'pull-token' });
    const fx = await fixture({ users: { [USER]: token }, anonymous: false });
    const r = await probe(fx, {}, { credentials: await envCredentials(token) });
    expect(r).toMatchObject({ ok: true, credential: { expiry: 'jwt', expiresAtSeconds: exp } });
    expect(r.credential?.note).toMatch(/^the password is a JWT that expires at .* \(in 20\.0 days\)$/);
    expectNoLeak(r, fx, token);
  });

  it('an expired JWT: the token endpoint refuses it, registry_credentials_expired at token', async () => {
    const exp = Math.floor(Date.now() / 1000) - 3600;
    const token = jwt({ exp });
    const fx = await fixture({ users: { [USER]: token }, anonymous: false });
    const r = await probe(fx, {}, { credentials: await envCredentials(token) });
    expect(r).toMatchObject({ ok: false, failedStep: 'token', reason: 'registry_credentials_expired', steps: { ping: { ok: true }, token: { ok: false, status: 401 } }, credential: { expiresAtSeconds: exp } });
    expect(r.message).toMatch(/^token: the token endpoint cgr\.dev:\d+ answered 401 \(UNAUTHORIZED: .*\): the password is a JWT that expired at /);
    expect(r.blobHost).toBeUndefined();
    expectNoLeak(r, fx, token);
  });

  it.each([401, 403] as const)('credentials the token endpoint denies with %i: registry_auth_failed at token', async (denyStatus) => {
    const fx = await fixture({ users: { [USER]: 'another-password' }, denyStatus, anonymous: false });
    const r = await probe(fx, {}, { credentials: await envCredentials(PASSWORD) });
    expect(r).toMatchObject({ ok: false, failedStep: 'token', reason: 'registry_auth_failed', steps: { token: { ok: false, status: denyStatus } } });
    expect(r.message).toContain(`answered ${denyStatus} (${denyStatus === 403 ? 'DENIED' : 'UNAUTHORIZED'}`);
    expect(r.message).toContain(`refused the credentials of ${USER} (EGRESS_REGISTRY_PASSWORD)`);
    expect(fx.requests.some((q) => q.path.includes('/manifests/'))).toBe(false);
    expectNoLeak(r, fx, PASSWORD);
  });

  it('an anonymous token denied: registry_auth_failed, naming the anonymous client', async () => {
    const fx = await fixture({ anonymous: false, denyStatus: 403 });
    const r = await probe(fx);
    expect(r).toMatchObject({ failedStep: 'token', reason: 'registry_auth_failed', steps: { token: { status: 403 } } });
    expect(r.message).toContain('refused an anonymous client');
  });

  it('credentials that cannot be used (a credential helper): registry_credentials_unusable, nothing sent', async () => {
    const fx = await fixture();
    const credentials = credentialsFromDockerConfig(JSON.stringify({ credHelpers: { 'cgr.dev': 'cgr' } }), 'cgr.dev', 443, '/root/.docker/config.json');
    const r = await probe(fx, {}, { credentials });
    expect(r).toMatchObject({ ok: false, failedStep: 'token', reason: 'registry_credentials_unusable', steps: { ping: { ok: true } } });
    expect(r.message).toContain('unsupported credentials: /root/.docker/config.json: credHelpers."cgr.dev" names a credential helper docker-credential-cgr');
    expect(fx.requests.map((q) => q.path)).toEqual(['/v2/']);
  });
});

describe('probeRegistry, the blob host', () => {
  it('the blob host refusing connections: blob_redirect fails with refused, naming the host, after the registry answered', async () => {
    const refused = await refusedPort();
    const fx = await fixture({ blobRedirectPort: refused });
    const dialFor = loopbackDialFactory({ ...fx.ports, [`${BLOB_HOST_NAME}:${refused}`]: refused });
    const r = await probe(fx, {}, { dialFor });
    expect(r).toMatchObject({
      ok: false,
      failedStep: 'blob_redirect',
      reason: 'refused',
      blobHost: BLOB_HOST_NAME,
      blobServedBy: 'redirect',
      steps: { ping: { ok: true }, token: { ok: true }, manifest: { ok: true }, blob_redirect: { ok: false } },
    });
    expect(r.message).toMatch(new RegExp(`^blob_redirect: the registry redirected the blob to ${BLOB_HOST_NAME.replace(/\./g, '\\.')}, which cannot be reached: connect to 127\\.0\\.0\\.1 port \\d+: connect ECONNREFUSED`));
    expect(r.steps.blob_first_byte).toBeUndefined();
    const failedConnect = r.transcript.at(-1);
    expect(failedConnect).toMatchObject({ kind: 'connect', step: 'blob_redirect', host: BLOB_HOST_NAME, ok: false });
  });

  it('a blob host whose name does not resolve: nxdomain at blob_redirect', async () => {
    const fx = await fixture();
    const dialFor: DialFactory = (host, port) => (host === BLOB_HOST_NAME ? loopbackDialFactory({})(host, port) : fx.dialFor(host, port));
    const r = await probe(fx, {}, { dialFor });
    expect(r).toMatchObject({ failedStep: 'blob_redirect', reason: 'nxdomain', blobHost: BLOB_HOST_NAME });
  });

  it('a blob host with a certificate for another name: tls_cert_invalid at blob_redirect (its own TLS handshake)', async () => {
    const fx = await fixture();
    // The blob host's name reaches the registry's server, whose certificate is cgr.dev's.
    const dialFor = loopbackDialFactory({ ...fx.ports, [`${BLOB_HOST_NAME}:${fx.blobPort}`]: fx.registryPort });
    const r = await probe(fx, {}, { dialFor });
    expect(r).toMatchObject({ failedStep: 'blob_redirect', reason: 'tls_cert_invalid', blobHost: BLOB_HOST_NAME });
    expect(r.message).toContain(`the certificate of ${BLOB_HOST_NAME} did not verify (ERR_TLS_CERT_ALTNAME_INVALID)`);
  });

  it('a redirect loop: registry_redirect_loop at blob_redirect', async () => {
    const fx = await fixture({ blobs: 'loop' });
    const r = await probe(fx);
    expect(r).toMatchObject({ ok: false, failedStep: 'blob_redirect', reason: 'registry_redirect_loop', steps: { blob_redirect: { ok: false, status: 307 } } });
    expect(r.message).toContain('redirected the blob back to');
    expect(r.message).toContain('a redirect loop');
    expect(fx.requests.filter((q) => q.path.includes('/blobs/')).length).toBe(1);
  });

  it('too many redirects: registry_redirect_loop', async () => {
    const fx = await fixture();
    const r = await probe(fx, {}, { maxRedirects: 0 });
    expect(r).toMatchObject({ failedStep: 'blob_redirect', reason: 'registry_redirect_loop', blobHost: BLOB_HOST_NAME });
    expect(r.message).toBe(`blob_redirect: more than 0 redirects for one blob (the last to ${BLOB_HOST_NAME})`);
  });

  it('a redirect to plain http is refused', async () => {
    const fx = await fixture({ blobs: 'http' });
    const r = await probe(fx);
    expect(r).toMatchObject({ failedStep: 'blob_redirect', reason: 'http_bad_response', blobHost: BLOB_HOST_NAME });
    expect(r.message).toContain('which is not https');
    expectNoLeak(r, fx);
  });

  it('a blob host that never answers: timeout at blob_redirect, within the deadline', async () => {
    const fx = await fixture();
    const silent = await startRawServer('silent');
    closers.push(() => silent.close());
    const dialFor = loopbackDialFactory({ ...fx.ports, [`${BLOB_HOST_NAME}:${fx.blobPort}`]: silent.port });
    const r = await probe(fx, {}, { dialFor }, 1500);
    expect(r).toMatchObject({ ok: false, failedStep: 'blob_redirect', reason: 'timeout', blobHost: BLOB_HOST_NAME });
    expect(r.message).toContain('no TLS answer before the deadline');
    expect(await eventually(() => silent.connections() === 0)).toBe(true);
  });
});

describe('probeRegistry, other registries', () => {
  it('a token realm that cannot be reached: the token step fails with the dial\'s reason', async () => {
    const origin = await startOrigin('h2');
    closers.push(origin.close);
    // Its /v2/ challenges with realm https://cgr.dev/token: port 443, unknown to the dial factory.
    const dialFor = loopbackDialFactory({ [`cgr.dev:${origin.port}`]: origin.port });
    const { result } = await timed(10_000, (signal) =>
      probeRegistry({ host: 'cgr.dev', port: origin.port, repository: REPOSITORY, reference: 'latest', platform: 'linux/amd64' }, { dialFor, ca: [pki.rootCa] }, signal),
    );
    expect(result).toMatchObject({ ok: false, failedStep: 'token', reason: 'nxdomain', steps: { ping: { ok: true, status: 401 } } });
    expect(result.message).toContain('token: token endpoint cgr.dev: looking up cgr.dev');
  });

  it('something that is not TLS where the registry should be: tls_handshake_failed at ping', async () => {
    const garbage = await startRawServer('garbage');
    closers.push(() => garbage.close());
    const dialFor = loopbackDialFactory({ [`cgr.dev:${garbage.port}`]: garbage.port });
    const { result } = await timed(10_000, (signal) =>
      probeRegistry({ host: 'cgr.dev', port: garbage.port, repository: REPOSITORY, reference: 'latest', platform: 'linux/amd64' }, { dialFor, ca: [pki.rootCa] }, signal),
    );
    expect(result).toMatchObject({ ok: false, failedStep: 'ping', reason: 'tls_handshake_failed' });
    expect(result.steps).toEqual({ ping: { ok: false, seconds: result.steps.ping?.seconds } });
  });

  it('a registry whose certificate is not trusted: tls_cert_invalid at ping', async () => {
    const fx = await fixture();
    const r = await probe(fx, {}, { ca: [] });
    expect(r).toMatchObject({ ok: false, failedStep: 'ping', reason: 'tls_cert_invalid' });
    expect(r.message).toContain('UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
    expect(fx.requests).toEqual([]);
  });
});

describe('probeRegistry, through a proxy', () => {
  it('a plain tunnel: every step passes, each host through its own CONNECT', async () => {
    const fx = await fixture();
    const p = await proxy(fx, { mode: 'tunnel' });
    const r = await probe(fx, {}, viaProxy(p));
    expect(r).toMatchObject({ ok: true, blobHost: BLOB_HOST_NAME });
    expect(p.connects.map((c) => [c.target, c.answer])).toEqual([
      [`cgr.dev:${fx.registryPort}`, 'tunnel'],
      [`${BLOB_HOST_NAME}:${fx.blobPort}`, 'tunnel'],
    ]);
    const connects = r.transcript.filter((e) => e.kind === 'connect');
    for (const c of connects) expect(c.proxyConnectSeconds).toBeGreaterThan(0);
  });

  it('the proxy denies the blob host: the registry answers, the pull fails at blob_redirect with proxy_denied, naming the blob host', async () => {
    const fx = await fixture();
    const p = await proxy(fx, { mode: 'tunnel', denySuffixes: ['.registry.test'] });
    const r = await probe(fx, {}, viaProxy(p));
    expect(r).toMatchObject({
      ok: false,
      failedStep: 'blob_redirect',
      reason: 'proxy_denied',
      blobHost: BLOB_HOST_NAME,
      steps: { ping: { ok: true, status: 401 }, token: { ok: true, status: 200 }, manifest: { ok: true, status: 200 }, blob_redirect: { ok: false } },
    });
    expect(r.message).toContain(`the registry redirected the blob to ${BLOB_HOST_NAME}, which cannot be reached: proxy corp`);
    expect(r.message).toContain(`answered CONNECT ${BLOB_HOST_NAME}:${fx.blobPort} with 403`);
    expect(p.connects.map((c) => c.answer)).toEqual(['tunnel', '403']);
    expect(fx.requests.some((q) => q.server === 'blob')).toBe(false);
  });

  it('a TLS-inspecting proxy whose CA is trusted: every step over HTTP/1.1; untrusted: tls_cert_invalid at ping', async () => {
    const fx = await fixture();
    const p = await proxy(fx, { mode: 'intercept' });
    const trusted = await probe(fx, {}, { ...viaProxy(p), ca: [pki.rootCa, pki.evilCa] });
    expect(trusted).toMatchObject({ ok: true, blobHost: BLOB_HOST_NAME, manifest: { blobVerified: true } });
    expect(trusted.transcript.filter((e) => e.kind === 'connect').map((c) => c.kind === 'connect' && c.alpn)).toEqual(['http/1.1', 'http/1.1']);
    const untrusted = await probe(fx, {}, viaProxy(p));
    expect(untrusted).toMatchObject({ ok: false, failedStep: 'ping', reason: 'tls_cert_invalid' });
  });

  it('an intercepting proxy that shows its own 403 inside the tunnel for the blob host: proxy_denied at blob_first_byte', async () => {
    const fx = await fixture();
    const p = await proxy(fx, { mode: 'intercept', denySuffixes: ['.registry.test'], bumpErrors: true });
    const r = await probe(fx, {}, { ...viaProxy(p), ca: [pki.rootCa, pki.evilCa] });
    expect(r).toMatchObject({ ok: false, failedStep: 'blob_first_byte', reason: 'proxy_denied', blobHost: BLOB_HOST_NAME, steps: { blob_redirect: { ok: true } } });
    expect(r.message).toContain('from the proxy inside the tunnel (X-Squid-Error: ERR_ACCESS_DENIED 0)');
  });
});
