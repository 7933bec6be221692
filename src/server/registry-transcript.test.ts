import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOB_HOST_NAME, REGISTRY_NAME, REPOSITORY, startRegistryFixture } from '../../test/fixtures/registry-server.js';
import type { RegistryFixture } from '../../test/fixtures/registry-server.js';
import { getPki } from '../../test/fixtures/pki.js';
import { startProxy } from '../../test/fixtures/proxies.js';
import type { RunningProxy } from '../../test/fixtures/proxies.js';
import { timed } from '../../test/helpers/timing.js';
import { credentialsFromEnv } from '../config/registry-credentials.js';
import { proxyDial } from '../probes/net/proxy.js';
import { probeRegistry } from '../probes/registry/registry.js';
import { registryTranscriptLines } from './registry-transcript.js';

const PASSWORD = 'transcript-secret-42';
let fx: RegistryFixture;
let proxy: RunningProxy;

beforeAll(async () => {
  fx = await startRegistryFixture({ users: { reader: PASSWORD } });
  proxy = await startProxy({ mode: 'tunnel', map: fx.ports, denySuffixes: ['.registry.test'] });
});

afterAll(async () => {
  await Promise.all([fx.close(), proxy.close()]);
});

describe('registryTranscriptLines', () => {
  it('shows every step, each connection, the redirect target and the headers that matter, secrets redacted', async () => {
    const pki = await getPki();
    const credentials = await credentialsFromEnv({ EGRESS_REGISTRY_USERNAME: 'reader', EGRESS_REGISTRY_PASSWORD: PASSWORD }, () => Promise.reject(new Error('no files')));
    const spec = { name: 'corp', url: new URL(proxy.url) };
    const { result } = await timed(10_000, (signal) =>
      probeRegistry(
        { host: REGISTRY_NAME, port: fx.registryPort, repository: REPOSITORY, reference: 'latest', platform: 'linux/amd64' },
        { dialFor: (h, p) => proxyDial(spec, h, p), viaProxy: true, ca: [pki.rootCa], credentials },
        signal,
      ),
    );
    const text = registryTranscriptLines(result, 'corp').join('\n');
    expect(text).toContain(`registry cgr.dev:${fx.registryPort} on corp: FAILED at blob_redirect (proxy_denied)`);
    expect(text).toMatch(/steps: ping [\d.]+ ms \(401\), token [\d.]+ ms \(200\), manifest [\d.]+ ms \(200\), blob_redirect FAILED [\d.]+ ms/);
    expect(text).toContain(`blob served by ${BLOB_HOST_NAME} (redirect)`);
    expect(text).toContain('credentials of reader (env): the password is not a JWT: its expiry cannot be read');
    expect(text).toMatch(new RegExp(`connect cgr\\.dev:${fx.registryPort} \\(127\\.0\\.0\\.1\\): connect [\\d.]+ ms, CONNECT [\\d.]+ ms, tls [\\d.]+ ms TLSv1\\.3 ALPN h2`));
    expect(text).toContain('      > authorization: Basic <redacted>');
    expect(text).toContain('      > authorization: Bearer <redacted>');
    expect(text).toContain(`      < location: https://${BLOB_HOST_NAME}:${fx.blobPort}/r2/`);
    expect(text).toContain('X-Amz-Signature=<redacted>');
    expect(text).toContain(`connect ${BLOB_HOST_NAME}:${fx.blobPort}: FAILED - proxy corp`);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(Buffer.from(`reader:${PASSWORD}`).toString('base64'));
    for (const token of fx.tokens) expect(text).not.toContain(token);
  });
});
