// What the tls check reports: the verdict of each requirement, the facts of the
// unconstrained handshake and of the chain it showed.
import type { FailureReason } from '../reasons.js';
import type { ProbeOutcome } from '../types.js';
import type { TlsCertFacts } from './tls-certs.js';
import type { TlsRequirement } from './tls-requirements.js';

export type TlsVerdict = 'met' | 'not_met' | 'untested';

export interface RequirementResult {
  requirement: TlsRequirement;
  verdict: TlsVerdict;
  /** Set exactly when verdict is 'untested': why the path could not be tested. */
  reason?: FailureReason;
  /** Human detail, e.g. 'alert 40 handshake_failure', 'EMS absent in ServerHello', 'selected http/1.1'. */
  detail: string;
  durationSeconds: number;
}

export interface TlsHandshakeFacts {
  /** 'TLSv1.3', 'TLSv1.2', ... */
  version: string;
  /** IANA name, e.g. TLS_AES_256_GCM_SHA384. */
  cipher: string;
  /** 'P-256', 'X25519', ... ('none' without ephemeral key exchange, 'dhe' for finite-field DHE on TLS 1.2). */
  group: string;
  /** 'h2', 'http/1.1' or 'none'. */
  alpn: string;
  /** EMS on TLS 1.2; null on TLS 1.3 (not applicable). */
  ems: boolean | null;
  /** tls.connect to secureConnect, excluding the TCP connect / tunnel. */
  handshakeSeconds: number;
  /** Set when this was the http check's handshake (SharedDefaultHandshake), not one of the tls check's own. */
  madeBy?: 'http';
}

export interface TlsResult extends ProbeOutcome {
  requirements: RequirementResult[];
  /** The unconstrained handshake; absent if it failed. */
  handshake?: TlsHandshakeFacts;
  certificate?: TlsCertFacts;
}
