// Shared shapes for every probe. A probe is a pure async function
// `(target, options, signal) => result`: it never throws for a network failure,
// it returns a result whose `reason` comes from the fixed set in reasons.ts.
import type { Socket } from 'node:net';
import type { HttpExpectation } from '../catalog/types.js';
import type { FailureReason } from './reasons.js';

export type Family = 'v4' | 'v6';
export const FAMILIES: readonly Family[] = ['v4', 'v6'];

export type CheckName = 'dns' | 'tcp' | 'tls' | 'http';
export const CHECK_NAMES: readonly CheckName[] = ['dns', 'tcp', 'tls', 'http'];

/** One host to probe, after catalog, config targets and excludes were merged. */
export interface Target {
  host: string;
  port: number;
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
  knownH2?: boolean;
}

/** What every probe result carries. */
export interface ProbeOutcome {
  ok: boolean;
  /** Set exactly when ok is false. */
  reason?: FailureReason;
  /** Human detail for logs and debug output; never used as a label. */
  message?: string;
  durationSeconds: number;
}

/**
 * Opens the byte stream a TLS or HTTP check runs over: a direct TCP connection,
 * or a CONNECT tunnel through a proxy. Resolves to a failure instead of throwing.
 */
export type Dial = (signal: AbortSignal) => Promise<DialResult>;

export type DialResult =
  | {
      ok: true;
      socket: Socket;
      /** TCP connect to the host, or to the proxy on a proxy path. */
      connectSeconds: number;
      /** On a proxy path: from sending CONNECT to its 200. */
      proxyConnectSeconds?: number;
      /** The socket is a CONNECT tunnel: a close before any byte came back is the proxy's doing. */
      viaProxy?: boolean;
      remoteAddress?: string;
    }
  | { ok: false; reason: FailureReason; message: string; durationSeconds: number };
