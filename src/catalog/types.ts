import type { Family, HttpExpectation } from '../model/types.js';

export interface CatalogHost {
  host: string;
  port: number;
  families: readonly Family[];
  purpose: string;
  group: 'chainguard' | 'third-party';
  /** Listed for allowlists only; never probed. */
  wildcard?: boolean;
  http?: HttpExpectation;
  /**
   * Issuer organisations or common names the host's chain is known to come from.
   * A chain from any other issuer counts as intercepted. Absent: interception is
   * judged by trust alone (verifies only against tls.ca_file).
   */
  expectedIssuers?: readonly string[];
  /** The vendor requires HTTP/2 of this host: HTTP/1.1 on any path is a downgrade. */
  h2?: boolean;
}

/** A registry of the catalog whose pull path is checked by default. */
export interface CatalogRegistry {
  host: string;
  port: number;
  /** A small public image that every client of the vendor can pull. */
  repository: string;
  reference: string;
  platform: string;
}

export interface Catalog {
  name: string;
  title: string;
  /** The date the vendor's page was last updated. */
  updated: string;
  hosts: readonly CatalogHost[];
  /** Registries whose pull path is checked unless the config lists its own. */
  registries: readonly CatalogRegistry[];
}
