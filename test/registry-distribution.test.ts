// The registry check against a registry it was not written with: the CNCF distribution
// registry (Debian's docker-registry) on loopback, with token auth on another host and
// blobs redirected (307) to a blob host, and an image the test pushes over its API.
// The registry judges our token (it verifies the JWT we pass on), our Accept header
// (it serves the index only to a client that accepts it) and our blob request.
//
// docker-registry is required: if it is missing these tests fail (they never skip).
import type { RegistryImage } from '../src/model/types.js';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISTRIBUTION_NAME, DIST_BLOB_HOST, TOKEN_HOST, pushImage, startDistribution } from './fixtures/distribution.js';
import type { PushedImage, RunningDistribution } from './fixtures/distribution.js';
import { getPki } from './fixtures/pki.js';
import type { Pki } from './fixtures/pki.js';
import { startProxy } from './fixtures/proxies.js';
import type { RunningProxy } from './fixtures/proxies.js';
import { timed } from './helpers/timing.js';
import { credentialsFromEnv } from '../src/config/registry-credentials.js';
import { proxyDial } from '../src/probes/net/proxy.js';
import { probeRegistry } from '../src/probes/registry/registry.js';
import type { RegistryProbeOptions, RegistryResult } from '../src/probes/registry/registry.js';

const REPOSITORY = 'egress-test/static';
const USER = 'puller';
const PASSWORD = 'distribution-secret-7Q';

let pki: Pki;
let dist: RunningDistribution;
let image: PushedImage;
const proxies: RunningProxy[] = [];

beforeAll(async () => {
  pki = await getPki();
  dist = await startDistribution({ users: { [USER]: PASSWORD } });
  image = await pushImage(dist, REPOSITORY);
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await dist?.close();
});

function target(over: Partial<RegistryImage> = {}): RegistryImage {
  return { host: DISTRIBUTION_NAME, port: dist.registryPort, repository: REPOSITORY, reference: 'latest', platform: 'linux/amd64', ...over };
}

async function probe(over: Partial<RegistryImage> = {}, options: Partial<RegistryProbeOptions> = {}): Promise<RegistryResult> {
  const { result } = await timed(20_000, (signal) => probeRegistry(target(over), { dialFor: dist.dialFor, ca: [pki.rootCa], ...options }, signal));
  return result;
}

async function through(denySuffixes: string[] = []): Promise<Partial<RegistryProbeOptions>> {
  const p = await startProxy({ mode: 'tunnel', map: dist.ports, denySuffixes });
  proxies.push(p);
  const spec = { name: 'corp', url: new URL(p.url) };
  return { dialFor: (host, port) => proxyDial(spec, host, port), viaProxy: true };
}

describe('registry check against CNCF distribution (docker-registry)', () => {
  it('every step passes: its challenge, our token from another host, the index, a 307 to the blob host, the first bytes', async () => {
    const r = await probe();
    expect(r).toMatchObject({
      ok: true,
      auth: 'bearer',
      blobHost: DIST_BLOB_HOST,
      blobServedBy: 'redirect',
      steps: {
        ping: { ok: true, status: 401 },
        token: { ok: true, status: 200 },
        manifest: { ok: true, status: 200 },
        blob_redirect: { ok: true },
        blob_first_byte: { ok: true, status: 206 },
      },
      manifest: { digest: image.amd64Digest, platform: 'linux/amd64', blobDigest: image.configDigest, blobSize: image.configSize, blobVerified: true },
    });
    const ping = r.transcript.find((e) => e.kind === 'request' && e.step === 'ping');
    if (ping?.kind === 'request') {
      expect(ping.responseHeaders['www-authenticate']).toBe(`Bearer realm="https://${TOKEN_HOST}:${dist.tokenPort}/token",service="egress-test-registry"`);
      expect(ping.responseHeaders['docker-distribution-api-version']).toBe('registry/2.0');
    }
    // The blob host got the storage path the registry's redirect names, a Range, and no token.
    const blob = dist.blobRequests.at(-1);
    expect(blob?.path).toBe(`/docker/registry/v2/blobs/sha256/${image.configDigest.slice(7, 9)}/${image.configDigest.slice(7)}/data`);
    expect(blob?.headers.authorization).toBeUndefined();
    expect(blob?.headers.range).toBe(`bytes=0-${image.configSize - 1}`);
  });

  it('picks linux/arm64/v8 from the index it serves', async () => {
    const r = await probe({ platform: 'linux/arm64/v8' });
    expect(r).toMatchObject({ ok: true, manifest: { digest: image.arm64Digest, platform: 'linux/arm64/v8' } });
  });

  it('an authenticated token exchange: Basic to the token host, nothing leaked', async () => {
    const credentials = await credentialsFromEnv({ EGRESS_REGISTRY_USERNAME: USER, EGRESS_REGISTRY_PASSWORD: PASSWORD }, () => Promise.reject(new Error('no files')));
    const r = await probe({}, { credentials });
    expect(r).toMatchObject({ ok: true, credential: { username: USER, expiry: 'not_jwt' } });
    expect(dist.tokenUsers.at(-1)).toBe(USER);
    const text = `${JSON.stringify(r)}\n${inspect(r, { depth: 20 })}`;
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));

    const wrong = await credentialsFromEnv({ EGRESS_REGISTRY_USERNAME: USER, EGRESS_REGISTRY_PASSWORD: 'not-the-password' }, () => Promise.reject(new Error('no files')));
    const refused = await probe({}, { credentials: wrong });
    expect(refused).toMatchObject({ ok: false, failedStep: 'token', reason: 'registry_auth_failed', steps: { token: { status: 401 } } });
  });

  it('a tag it does not have: registry_not_found at manifest, with its MANIFEST_UNKNOWN', async () => {
    const r = await probe({ reference: 'no-such-tag' });
    expect(r).toMatchObject({ ok: false, failedStep: 'manifest', reason: 'registry_not_found', steps: { manifest: { status: 404 } } });
    expect(r.message).toContain('MANIFEST_UNKNOWN');
  });

  it('through a proxy that denies the blob host: the registry answers, the pull fails at blob_redirect, naming the blob host', async () => {
    const open = await probe({}, await through());
    expect(open).toMatchObject({ ok: true, blobHost: DIST_BLOB_HOST });
    const denied = await probe({}, await through([DIST_BLOB_HOST]));
    expect(denied).toMatchObject({
      ok: false,
      failedStep: 'blob_redirect',
      reason: 'proxy_denied',
      blobHost: DIST_BLOB_HOST,
      steps: { ping: { ok: true }, token: { ok: true }, manifest: { ok: true }, blob_redirect: { ok: false } },
    });
    expect(denied.message).toContain(`the registry redirected the blob to ${DIST_BLOB_HOST}, which cannot be reached`);
  });
});
