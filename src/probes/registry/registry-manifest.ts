// Image manifests as the registry check reads them: an index (OCI image index or
// Docker manifest list) names one manifest per platform; a manifest (OCI or Docker
// schema 2) names a config blob and layers. Only what the check needs is read, and
// every field it uses is validated: a digest goes into a URL path.
import { createHash } from 'node:crypto';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

const INDEX_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList];
const MANIFEST_TYPES: readonly string[] = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];

/** The Accept header of a manifest request: what a current `docker pull` sends. */
export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest].join(', ');

export const DIGEST_RE = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: Platform;
  /** Foreign layers (Windows base layers) live elsewhere: never fetched. */
  urls?: boolean;
}

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; manifests: Descriptor[] }
  | { kind: 'manifest'; mediaType: string; blobs: Descriptor[] }
  | { kind: 'invalid'; problem: string };

/** `linux/arm64/v8` -> { os, architecture, variant }. */
export function parsePlatform(text: string): Platform {
  const [os = '', architecture = '', variant] = text.split('/');
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

export function formatPlatform(p: Platform): string {
  return p.variant === undefined ? `${p.os}/${p.architecture}` : `${p.os}/${p.architecture}/${p.variant}`;
}

/** `sha256:<hex of body>`. */
export function sha256Digest(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/** Whether `body` is what `digest` names (sha256 and sha512). */
export function matchesDigest(body: Buffer, digest: string): boolean {
  const [algorithm, hex] = digest.split(':');
  if ((algorithm !== 'sha256' && algorithm !== 'sha512') || hex === undefined) return false;
  return createHash(algorithm).update(body).digest('hex') === hex;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function descriptor(value: unknown): Descriptor | string {
  if (!isObject(value)) return 'a descriptor that is not an object';
  const { digest, size, mediaType, platform, urls } = value;
  if (typeof digest !== 'string' || !DIGEST_RE.test(digest)) return `a descriptor with an invalid digest ${JSON.stringify(String(digest).slice(0, 80))}`;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return `descriptor ${digest} has an invalid size`;
  const out: Descriptor = { digest, size };
  if (typeof mediaType === 'string') out.mediaType = mediaType.slice(0, 200);
  if (isObject(platform) && typeof platform.os === 'string' && typeof platform.architecture === 'string') {
    out.platform = { os: platform.os.slice(0, 40), architecture: platform.architecture.slice(0, 40) };
    if (typeof platform.variant === 'string' && platform.variant !== '') out.platform.variant = platform.variant.slice(0, 40);
  }
  if (Array.isArray(urls) && urls.length > 0) out.urls = true;
  return out;
}

function descriptors(value: unknown, what: string): Descriptor[] | string {
  if (!Array.isArray(value)) return `${what} is not a list`;
  const out: Descriptor[] = [];
  for (const item of value) {
    const d = descriptor(item);
    if (typeof d === 'string') return `${what}: ${d}`;
    out.push(d);
  }
  return out;
}

/**
 * Reads a manifest body. The media type comes from Content-Type, else from the
 * body's own mediaType; without either, the shape decides (`manifests` or `layers`).
 */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return { kind: 'invalid', problem: 'the manifest is not JSON' };
  }
  if (!isObject(doc)) return { kind: 'invalid', problem: 'the manifest is not a JSON object' };
  const header = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const own = typeof doc.mediaType === 'string' ? doc.mediaType : '';
  const known = [...INDEX_TYPES, ...MANIFEST_TYPES];
  let mediaType = known.includes(header) ? header : known.includes(own) ? own : '';
  if (mediaType === '') {
    if (doc.schemaVersion === 1 || header.includes('manifest.v1')) return { kind: 'invalid', problem: 'a schema 1 manifest (deprecated; not pulled by current clients)' };
    if (Array.isArray(doc.manifests)) mediaType = MEDIA_TYPES.ociIndex;
    else if (Array.isArray(doc.layers)) mediaType = MEDIA_TYPES.ociManifest;
    else return { kind: 'invalid', problem: `unknown manifest media type ${JSON.stringify((header || own).slice(0, 100))}` };
  }
  if (INDEX_TYPES.includes(mediaType)) {
    const manifests = descriptors(doc.manifests, 'manifests');
    return typeof manifests === 'string' ? { kind: 'invalid', problem: manifests } : { kind: 'index', mediaType, manifests };
  }
  const config = descriptor(doc.config);
  if (typeof config === 'string') return { kind: 'invalid', problem: `config: ${config}` };
  const layers = descriptors(doc.layers, 'layers');
  if (typeof layers === 'string') return { kind: 'invalid', problem: layers };
  return { kind: 'manifest', mediaType, blobs: [config, ...layers] };
}

/**
 * The index entry for `want`, as a client on that platform picks it: same os and
 * architecture, and the variant when one is asked for (otherwise an entry without a
 * variant first). Attestation manifests (platform unknown/unknown) never match.
 */
export function selectPlatform(manifests: readonly Descriptor[], want: Platform): Descriptor | undefined {
  const candidates = manifests.filter((m) => m.platform !== undefined && m.platform.os === want.os && m.platform.architecture === want.architecture);
  if (want.variant !== undefined) return candidates.find((m) => m.platform?.variant === want.variant);
  return candidates.find((m) => m.platform?.variant === undefined) ?? candidates[0];
}

/** The platforms an index offers, for a message: `linux/amd64, linux/arm64/v8` (at most 8). */
export function describePlatforms(manifests: readonly Descriptor[]): string {
  const names = [...new Set(manifests.flatMap((m) => (m.platform === undefined ? [] : [formatPlatform(m.platform)])))];
  if (names.length === 0) return 'no platforms';
  return names.length > 8 ? `${names.slice(0, 8).join(', ')}, ...` : names.join(', ');
}

/** The smallest blob worth fetching: not empty, not a foreign layer. */
export function smallestBlob(blobs: readonly Descriptor[]): Descriptor | undefined {
  let best: Descriptor | undefined;
  for (const blob of blobs) {
    if (blob.size === 0 || blob.urls === true) continue;
    if (best === undefined || blob.size < best.size) best = blob;
  }
  return best;
}
