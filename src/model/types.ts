// The shared model: what a target is and which checks and families exist. Every
// layer (catalog, config, probes, scheduler, metrics) imports these from here, so
// no two of them import each other for a type.

import type { TlsRequirement } from './tls-requirements.js';

export type Family = 'v4' | 'v6';
export const FAMILIES: readonly Family[] = ['v4', 'v6'];

/** The checks a target's `checks` list chooses from. */
export type ConfigurableCheck = 'dns' | 'tcp' | 'tls' | 'http';
export const CHECK_NAMES: readonly ConfigurableCheck[] = ['dns', 'tcp', 'tls', 'http'];
/** Every check that reports a result: the registry pull runs where a registry is configured. */
export type CheckName = ConfigurableCheck | 'registry';

/**
 * What a path to a target must do: work (`reachable`, the default), or stay blocked
 * (`blocked`: a host the egress policy must keep out, judged in checks/expectation.ts).
 */
export type Expectation = 'reachable' | 'blocked';
export const EXPECTATIONS: readonly Expectation[] = ['reachable', 'blocked'];
/** One expectation for every path, or one per path name (`direct`, `proxy`, a proxy's name); a path not named must work. */
export type TargetExpectation = Expectation | Readonly<Record<string, Expectation>>;

/** What the path named `path` to `target` must do. */
export function expectationOn(target: { expect?: TargetExpectation }, path: string): Expectation {
  const expect = target.expect;
  if (expect === undefined) return 'reachable';
  if (typeof expect === 'string') return expect;
  // Own keys only: a proxy may be called `constructor`.
  return Object.hasOwn(expect, path) ? (expect[path] as Expectation) : 'reachable';
}

export type RegistryCredentialSource = 'anonymous' | 'env' | 'docker_config';

/** An image on an OCI registry: what a pull is tried with. */
export interface RegistryImage {
  host: string;
  port: number;
  /** The image to pull, e.g. chainguard/static. */
  repository: string;
  /** A tag or a digest (sha256:...). */
  reference: string;
  /** os/architecture[/variant] picked from an index, e.g. linux/amd64. */
  platform: string;
}

/** The image pull a registry target tries on every path (see probes/registry.ts). */
export interface RegistryPull extends Omit<RegistryImage, 'host' | 'port'> {
  credentials: RegistryCredentialSource;
  /** With credentials docker_config: the config.json to read; null: Docker's own location. */
  dockerConfig: string | null;
}

/** The request that proves a host answers as itself, and the answer it should give. */
export interface HttpExpectation {
  method: string;
  path: string;
  /** Any of these statuses is valid. Empty or absent: any status below 500. */
  expectStatus?: readonly number[];
  /** Lower-case header name -> exact value. */
  expectHeaders?: Readonly<Record<string, string>>;
  /** Request headers sent besides the probe's own (lower-case name -> value); never Host nor a hop-by-hop one. */
  headers?: Readonly<Record<string, string>>;
  /** Text the body must contain (UTF-8), looked for in what the check reads of it: at most its first 64 KiB. */
  expectBody?: string;
}

/** One host to probe, after catalog, config targets and excludes were merged. */
export interface Target {
  host: string;
  port: number;
  /**
   * The name sent as SNI and verified in the certificate, and the HTTP Host (:authority), by
   * the tls, http and registry checks, instead of `host`, which is still what is dialled (as
   * curl --resolve NAME:PORT:HOST does): an IP-literal target whose certificate names a host.
   */
  serverName?: string;
  /** IP families the host is documented to have. */
  families: Family[];
  checks: CheckName[];
  /** Extra labels from config; exported on egress_target_info only (bounded). */
  labels: Record<string, string>;
  /** Human note, e.g. "Main container image registry". */
  purpose: string;
  /** Where the target came from: a catalog name, or "config". */
  source: string;
  /** The request that proves the host answers as itself; absent: GET / with any status below 500. */
  http?: HttpExpectation;
  /** Issuer O or CN substrings the host's chain comes from (interception check). */
  expectedIssuers?: readonly string[];
  /** The vendor says the host speaks HTTP/2: HTTP/1.1 on any path is a downgrade. */
  h2?: boolean;
  /** Its chain really comes from a private CA in tls.ca_file: trust alone does not flag it. */
  privateCa?: boolean;
  /** The host is an OCI registry whose pull path is checked. */
  registry?: RegistryPull;
  /**
   * The TLS requirements the tls check judges: the catalog's for its hosts, the config's for
   * its own targets (resolveTargets always sets it); empty: only the unconstrained handshake.
   * Absent (a target made by hand, in a test): every requirement the exporter knows.
   */
  tlsRequirements?: readonly TlsRequirement[];
  /** Whether its paths must work or stay blocked; absent: every path must work. */
  expect?: TargetExpectation;
}
