// How a certificate's facts read to a person: `check`'s table and the status page say
// when the chain expires, who issued the leaf, whether it verified and against which
// trust, flagging what EgressTLSCertificateExpiringSoon would page on.
import type { TlsCertFacts } from './probes/tls/tls-certs.js';
import { issuerLabel } from './probes/tls/tls-certs.js';
import { counted } from './plural.js';

/** EgressTLSCertificateExpiringSoon warns below this many days (alerts/), on the chain's earliest notAfter. */
export const EXPIRY_WARNING_DAYS = 14;

const DAY_MS = 86_400_000;

/** `in 41 days`, `in 5 hours`, `3 days ago`: from now to a unix time in seconds. */
export function fromNow(atSeconds: number, nowMs: number): string {
  const ms = atSeconds * 1000 - nowMs;
  const abs = Math.abs(ms);
  const amount = abs >= DAY_MS ? counted(Math.floor(abs / DAY_MS), 'day') : counted(Math.floor(abs / 3_600_000), 'hour');
  return ms >= 0 ? `in ${amount}` : `${amount} ago`;
}

export interface CertWords {
  /** When the chain's first certificate expires: `expires in 41 days`, `expired 2 days ago`; the leaf's too when it is not the first. */
  expiry: string;
  /** Expired, or expires within EXPIRY_WARNING_DAYS: flag it. */
  soon: boolean;
  issuer: string;
  /** `yes`, or `no (UNABLE_TO_GET_ISSUER_CERT_LOCALLY)`. */
  verified: string;
  trust: TlsCertFacts['trust'];
}

export function certWords(cert: TlsCertFacts, nowMs: number): CertWords {
  const earliest = cert.earliestNotAfter;
  const expired = earliest * 1000 <= nowMs;
  let expiry = `${expired ? 'expired' : 'expires'} ${fromNow(earliest, nowMs)}`;
  // The leaf is what people look at; say so when another certificate of the chain goes first.
  if (cert.leafNotAfter > earliest) expiry += ` (a chain certificate, before the leaf: it expires ${fromNow(cert.leafNotAfter, nowMs)})`;
  return {
    expiry,
    soon: earliest * 1000 - nowMs < EXPIRY_WARNING_DAYS * DAY_MS,
    issuer: issuerLabel(cert),
    verified: cert.verified ? 'yes' : `no (${cert.authorizationError ?? 'unknown'})`,
    trust: cert.trust,
  };
}
