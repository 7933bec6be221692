// What the registry check takes and reports: its options, its steps, its result and
// the transcript of every connection and request it made (redacted: see registry-client.ts).
import type { PasswordExpiry, RegistryCredential, RegistryCredentials } from '../../config/registry-credentials.js';
import type { TrustOptions } from '../tls/tls-client.js';
import type { DialFactory, ProbeOutcome } from '../types.js';

export const REGISTRY_STEPS = ['ping', 'token', 'manifest', 'blob_redirect', 'blob_first_byte'] as const;
export type RegistryStep = (typeof REGISTRY_STEPS)[number];

export interface RegistryProbeOptions extends TrustOptions {
  /**
   * Opens connections on this check's path, for the registry and for every host it
   * sends the check to (token realm, blob host): each call's Dial opens a fresh one.
   */
  dialFor: DialFactory;
  /** The dials go through a proxy (for the reasons of a timeout or a dropped tunnel). */
  viaProxy?: boolean;
  /** From loadRegistryCredentials; absent: anonymous. */
  credentials?: RegistryCredentials;
  userAgent?: string;
  /** Redirects followed for the blob. Default 5. */
  maxRedirects?: number;
  /** How much of the blob is read, at most. Default 64 KiB; a smaller blob is read whole and its digest checked. */
  firstBytes?: number;
  /** Clock for expiries, in ms. Default Date.now. */
  now?: () => number;
}

export interface RegistryStepResult {
  ok: boolean;
  seconds: number;
  /** The last HTTP status of the step; absent when no answer came. */
  status?: number;
}

export type RegistryTranscriptEntry =
  | {
      step: RegistryStep;
      kind: 'connect';
      host: string;
      port: number;
      ok: boolean;
      remoteAddress?: string;
      lookupSeconds?: number;
      connectSeconds?: number;
      proxyConnectSeconds?: number;
      tlsSeconds?: number;
      tlsVersion?: string;
      alpn?: string;
      /** Why it failed: scrubbed, bounded. */
      error?: string;
    }
  | {
      step: RegistryStep;
      kind: 'request';
      method: 'GET';
      /** Query values redacted. */
      url: string;
      requestHeaders: Record<string, string>;
      status?: number;
      /** The headers that matter (content type, digest, location, challenge...), redacted and bounded. */
      responseHeaders: Record<string, string>;
      /** Request sent -> response head. */
      seconds: number;
      error?: string;
    };

export interface RegistryCredentialFacts {
  source: RegistryCredential['source'];
  /** Bounded to 64 characters. */
  username: string;
  expiry: PasswordExpiry['kind'];
  /** The JWT password's exp. */
  expiresAtSeconds?: number;
  /** Says whether and when it expires, or that it cannot tell. */
  note: string;
}

export interface RegistryResult extends ProbeOutcome {
  /** host, or host:port off 443. */
  registry: string;
  /** Set exactly when ok is false. */
  failedStep?: RegistryStep;
  /** The steps that ran, in order; token is absent without a Bearer challenge, blob_redirect without a redirect. */
  steps: Partial<Record<RegistryStep, RegistryStepResult>>;
  /** What the registry asked for at /v2/. */
  auth?: 'none' | 'bearer' | 'basic';
  /** The host the blob redirect pointed to (the last one, with several): a hostname, bounded. */
  blobHost?: string;
  /** Whether the blob came by redirect or from the registry itself. */
  blobServedBy?: 'redirect' | 'registry';
  manifest?: {
    /** sha256 of the manifest that names the blobs. */
    digest: string;
    mediaType: string;
    /** The index entry picked, when the reference is an index. */
    platform?: string;
    blobDigest?: string;
    blobSize?: number;
    /** The blob was read whole and matched its digest. */
    blobVerified?: boolean;
  };
  /** When the registry's token expires (issued_at + expires_in). */
  tokenExpiresAtSeconds?: number;
  credential?: RegistryCredentialFacts;
  transcript: RegistryTranscriptEntry[];
}

export const DEFAULT_MAX_REDIRECTS = 5;
export const DEFAULT_FIRST_BYTES = 64 * 1024;
