import { CHAINGUARD_2024, CHAINGUARD_2025, CHAINGUARD_REGISTRIES, CHAINGUARD_TLS_REQUIREMENTS } from './chainguard.js';
import type { Catalog } from './types.js';

export type { Catalog, CatalogHost } from './types.js';

export const CATALOG_NAMES = ['chainguard', 'chainguard-2024', 'none'] as const;
export type CatalogName = (typeof CATALOG_NAMES)[number];

const CATALOGS: Record<CatalogName, Catalog> = {
  chainguard: {
    name: 'chainguard',
    title: 'Chainguard Containers network requirements',
    updated: '2025-06-17',
    hosts: CHAINGUARD_2025,
    registries: CHAINGUARD_REGISTRIES,
    tlsRequirements: CHAINGUARD_TLS_REQUIREMENTS,
  },
  'chainguard-2024': {
    name: 'chainguard-2024',
    title: 'Chainguard Images network requirements',
    updated: '2024-03-28',
    hosts: CHAINGUARD_2024,
    registries: CHAINGUARD_REGISTRIES,
    tlsRequirements: CHAINGUARD_TLS_REQUIREMENTS,
  },
  none: { name: 'none', title: 'No built-in hosts', updated: '', hosts: [], registries: [], tlsRequirements: [] },
};

export function getCatalog(name: CatalogName): Catalog {
  return CATALOGS[name];
}
