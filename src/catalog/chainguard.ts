// Chainguard's published network requirements, as data.
// Source: "Chainguard Containers Network Requirements", last updated 2025-06-17,
// and the earlier "Network Requirements" page, lastmod 2024-03-28.
import { TLS_REQUIREMENTS } from '../model/tls-requirements.js';
import type { TlsRequirement } from '../model/tls-requirements.js';
import type { RegistryImage } from '../model/types.js';
import type { CatalogHost } from './types.js';

const CGR_REGISTRY_HTTP = {
  method: 'GET',
  path: '/v2/',
  expectStatus: [401],
  expectHeaders: { 'docker-distribution-api-version': 'registry/2.0' },
} as const;

// "Support for encrypted HTTP/2 is required, including by any proxies in use":
// every host is marked h2, so HTTP/1.1 on any path reads as a downgrade.
export const CHAINGUARD_2025: readonly CatalogHost[] = [
  { host: 'cgr.dev', port: 443, families: ['v4'], purpose: 'Main container image registry', group: 'chainguard', h2: true, http: CGR_REGISTRY_HTTP },
  { host: 'console.chainguard.dev', port: 443, families: ['v4'], purpose: 'Chainguard dashboard', group: 'chainguard', h2: true },
  { host: 'data.chainguard.dev', port: 443, families: ['v4'], purpose: 'Console API endpoint', group: 'chainguard', h2: true },
  { host: 'console-api.enforce.dev', port: 443, families: ['v4'], purpose: 'Registry API endpoint', group: 'chainguard', h2: true },
  { host: 'enforce.dev', port: 443, families: ['v4'], purpose: 'Registry authentication', group: 'chainguard', h2: true },
  { host: 'dl.enforce.dev', port: 443, families: ['v4'], purpose: 'chainctl downloads', group: 'chainguard', h2: true },
  { host: 'issuer.enforce.dev', port: 443, families: ['v4'], purpose: 'Registry STS (Security Token Service)', group: 'chainguard', h2: true },
  { host: 'apk.cgr.dev', port: 443, families: ['v4'], purpose: 'Package repository', group: 'chainguard', h2: true },
  { host: 'virtualapk.cgr.dev', port: 443, families: ['v4'], purpose: 'Package repository', group: 'chainguard', h2: true },
  { host: 'packages.cgr.dev', port: 443, families: ['v4'], purpose: 'Package repository (Extra packages)', group: 'chainguard', h2: true },
  { host: 'packages.wolfi.dev', port: 443, families: ['v4', 'v6'], purpose: 'Package repository (Free containers)', group: 'chainguard', h2: true },
  {
    host: '9236a389bd48b984df91adc1bc924620.r2.cloudflarestorage.com',
    port: 443,
    families: ['v4', 'v6'],
    purpose: 'Blob storage for *.cgr.dev',
    group: 'third-party', h2: true,
  },
  { host: 'support.chainguard.dev', port: 443, families: ['v4'], purpose: 'Support access for customers', group: 'third-party', h2: true },
];

// The 2024 page has no IP column: families default to v4 there.
export const CHAINGUARD_2024: readonly CatalogHost[] = [
  { host: 'cgr.dev', port: 443, families: ['v4'], purpose: 'Main image registry', group: 'chainguard', http: CGR_REGISTRY_HTTP },
  { host: 'console.enforce.dev', port: 443, families: ['v4'], purpose: 'Chainguard dashboard', group: 'chainguard' },
  { host: 'console-api.enforce.dev', port: 443, families: ['v4'], purpose: 'Registry API endpoint', group: 'chainguard' },
  { host: 'enforce.dev', port: 443, families: ['v4'], purpose: 'Registry authentication', group: 'chainguard' },
  { host: 'dl.enforce.dev', port: 443, families: ['v4'], purpose: 'chainctl downloads', group: 'chainguard' },
  { host: 'issuer.enforce.dev', port: 443, families: ['v4'], purpose: 'Registry STS (Security Token Service)', group: 'chainguard' },
  { host: 'packages.wolfi.dev', port: 443, families: ['v4'], purpose: 'Package repository (Developer Images)', group: 'chainguard' },
  { host: 'packages.cgr.dev', port: 443, families: ['v4'], purpose: 'Package repository (Production Images)', group: 'chainguard' },
  { host: 'ghcr.io', port: 443, families: ['v4'], purpose: 'Used for wolfi development', group: 'third-party' },
  // A wildcard belongs in an allowlist but cannot be probed: listed, never scheduled.
  { host: '*.r2.cloudflarestorage.com', port: 443, families: ['v4'], purpose: 'Blob storage for cgr.dev', group: 'third-party', wildcard: true },
  {
    host: '9236a389bd48b984df91adc1bc924620.r2.cloudflarestorage.com',
    port: 443,
    families: ['v4'],
    purpose: 'Blob storage for cgr.dev',
    group: 'third-party',
  },
  { host: 'chainguardhelp.zendesk.com', port: 443, families: ['v4'], purpose: 'Support access for customers', group: 'third-party' },
  { host: 'storage.googleapis.com', port: 443, families: ['v4'], purpose: 'chainctl downloads', group: 'third-party' },
];

// Opening cgr.dev is not enough for a pull: blobs come from R2 by redirect. The
// smallest public image shows whether the whole path works, for both catalogs.
export const CHAINGUARD_REGISTRIES: readonly RegistryImage[] = [
  { host: 'cgr.dev', port: 443, repository: 'chainguard/static', reference: 'latest', platform: 'linux/amd64' },
];

// "Minimum TLS requirements": TLS 1.3 with TLS_AES_256_GCM_SHA384, TLS 1.2 with
// ECDHE-ECDSA-AES256-GCM-SHA384 and Extended Master Secret, P-256, ECDSA and RSA-PSS
// signatures, ALPN h2, and the page's openssl s_client command as one handshake
// (baseline): every requirement the exporter knows is Chainguard's.
export const CHAINGUARD_TLS_REQUIREMENTS: readonly TlsRequirement[] = TLS_REQUIREMENTS;
