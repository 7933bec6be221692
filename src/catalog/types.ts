import type { TlsRequirement } from '../model/tls-requirements.js';
import type { Family, RegistryImage, Target } from '../model/types.js';

/**
 * A host as a vendor's catalog lists it: the fields it shares with a Target mean what
 * they mean there; a wildcard entry is listed for allowlists and never becomes one.
 */
export interface CatalogHost extends Pick<Target, 'host' | 'port' | 'purpose' | 'http' | 'expectedIssuers' | 'h2'> {
  families: readonly Family[];
  group: 'chainguard' | 'third-party';
  /** Listed for allowlists only; never probed. */
  wildcard?: boolean;
}

export interface Catalog {
  name: string;
  title: string;
  /** The date the vendor's page was last updated. */
  updated: string;
  hosts: readonly CatalogHost[];
  /** Registries whose pull path is checked unless the config lists its own: a small public image every client of the vendor can pull. */
  registries: readonly RegistryImage[];
  /** The TLS requirements the vendor's page asks of every path to its hosts. */
  tlsRequirements: readonly TlsRequirement[];
}
