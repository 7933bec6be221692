import { describe, expect, it } from 'vitest';
import { MEDIA_TYPES, describePlatforms, matchesDigest, parseManifest, parsePlatform, selectPlatform, sha256Digest, smallestBlob } from './registry-manifest.js';
import type { Descriptor } from './registry-manifest.js';

const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('parseManifest', () => {
  const manifest = { schemaVersion: 2, config: { digest: d(1), size: 1200 }, layers: [{ digest: d(2), size: 300_000 }, { digest: d(3), size: 900, urls: ['https://x'] }] };

  it('reads an OCI or Docker manifest: the config and the layers', () => {
    for (const type of [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]) {
      const parsed = parseManifest(json(manifest), `${type}; charset=utf-8`);
      expect(parsed).toEqual({
        kind: 'manifest',
        mediaType: type,
        blobs: [
          { digest: d(1), size: 1200 },
          { digest: d(2), size: 300_000 },
          { digest: d(3), size: 900, urls: true },
        ],
      });
    }
  });

  it('reads an index by Content-Type, by its own mediaType, or by its shape', () => {
    const index = { schemaVersion: 2, manifests: [{ digest: d(4), size: 500, platform: { os: 'linux', architecture: 'amd64' } }] };
    expect(parseManifest(json(index), MEDIA_TYPES.dockerManifestList)).toMatchObject({ kind: 'index', mediaType: MEDIA_TYPES.dockerManifestList });
    expect(parseManifest(json({ ...index, mediaType: MEDIA_TYPES.ociIndex }), 'application/json')).toMatchObject({ kind: 'index', mediaType: MEDIA_TYPES.ociIndex });
    expect(parseManifest(json(index), undefined)).toMatchObject({ kind: 'index', manifests: [{ platform: { os: 'linux', architecture: 'amd64' } }] });
  });

  it('says what is wrong with anything else', () => {
    expect(parseManifest(Buffer.from('<html>'), 'text/html')).toEqual({ kind: 'invalid', problem: 'the manifest is not JSON' });
    expect(parseManifest(json({ schemaVersion: 1, fsLayers: [] }), 'application/vnd.docker.distribution.manifest.v1+prettyjws')).toMatchObject({ problem: expect.stringContaining('schema 1') as string });
    expect(parseManifest(json({ foo: 1 }), 'application/json')).toEqual({ kind: 'invalid', problem: 'unknown manifest media type "application/json"' });
    expect(parseManifest(json({ ...manifest, config: { digest: '../../etc/passwd', size: 1 } }), MEDIA_TYPES.ociManifest)).toEqual({
      kind: 'invalid',
      problem: 'config: a descriptor with an invalid digest "../../etc/passwd"',
    });
    expect(parseManifest(json({ ...manifest, layers: [{ digest: d(2), size: -1 }] }), MEDIA_TYPES.ociManifest)).toMatchObject({ kind: 'invalid' });
  });
});

describe('platforms and blobs', () => {
  const entries: Descriptor[] = [
    { digest: d(1), size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    { digest: d(2), size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    { digest: d(3), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
    { digest: d(4), size: 1, platform: { os: 'unknown', architecture: 'unknown' } },
  ];

  it('picks the platform as a client would', () => {
    expect(selectPlatform(entries, parsePlatform('linux/amd64'))?.digest).toBe(d(3));
    expect(selectPlatform(entries, parsePlatform('linux/arm64'))?.digest).toBe(d(1));
    expect(selectPlatform(entries, parsePlatform('linux/arm/v7'))?.digest).toBe(d(2));
    expect(selectPlatform(entries, parsePlatform('linux/arm/v6'))).toBeUndefined();
    expect(selectPlatform(entries, parsePlatform('windows/amd64'))).toBeUndefined();
    expect(describePlatforms(entries)).toBe('linux/arm64/v8, linux/arm/v7, linux/amd64, unknown/unknown');
  });

  it('the smallest blob, never an empty or foreign one', () => {
    expect(smallestBlob([{ digest: d(1), size: 5000 }, { digest: d(2), size: 0 }, { digest: d(3), size: 10, urls: true }, { digest: d(4), size: 700 }])?.digest).toBe(d(4));
    expect(smallestBlob([{ digest: d(2), size: 0 }])).toBeUndefined();
  });

  it('checks a body against its digest', () => {
    const body = Buffer.from('{"a":1}');
    expect(matchesDigest(body, sha256Digest(body))).toBe(true);
    expect(matchesDigest(Buffer.from('{"a":2}'), sha256Digest(body))).toBe(false);
    expect(matchesDigest(body, 'md5:abc')).toBe(false);
  });
});
