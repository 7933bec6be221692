// Facts about the certificate chain a server presented: expiries, issuer, whether it
// verified and against which trust, and whether it looks intercepted.
//
// Verification. `verified` is OpenSSL's own verdict from the unconstrained handshake
// (Node's `authorized`): full path building against the system roots plus the
// tls.ca_file CAs, including the host name check. OpenSSL does not say which trust
// anchor it used, so the trust source is found separately, offline: the presented
// chain is built up to an anchor once with the system roots only and once with the
// ca_file CAs only (`chainsTo`: issuer name match via X509_check_issued, signature via
// X509_verify, CA flag on intermediates, validity dates, depth limit). trust is
// 'system' when the system roots alone suffice, else 'ca_file' when the ca_file CAs
// suffice, else 'none' (and 'none' whenever OpenSSL did not verify the chain).
//
// Interception rule:
//  - With expected issuers (per host in the catalog, overridable in config):
//    intercepted iff NO certificate of the presented chain has an issuer whose O or CN
//    contains (case-insensitive) one of the expected issuers. A re-signing proxy
//    replaces the whole chain with its own CA, so none of the real issuers remain.
//  - Without expected issuers: intercepted iff the chain builds to a ca_file CA but not
//    to any system root, i.e. only a corporate CA vouches for it, which is exactly
//    what a TLS-inspecting proxy that re-signs on the fly looks like. (A private
//    service legitimately signed by a corporate CA reads the same: give it expected
//    issuers.) A chain that verifies against nothing is "not verified", not
//    "intercepted".
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate } from 'node:tls';

export interface TlsCertFacts {
  /** Leaf notAfter, unix seconds. */
  leafNotAfter: number;
  /** Earliest notAfter of every certificate in the chain (including the anchor), unix seconds. */
  earliestNotAfter: number;
  /** Issuer of the leaf, CN and O, at most 64 characters each ('' when absent). */
  issuerCN: string;
  issuerO: string;
  verified: boolean;
  trust: 'system' | 'ca_file' | 'none';
  intercepted: boolean;
  subjectCN: string;
  chainLength: number;
  /** OpenSSL's or Node's error code when not verified, e.g. UNABLE_TO_GET_ISSUER_CERT_LOCALLY. */
  authorizationError?: string;
}

export interface TrustAnchors {
  system: readonly X509Certificate[];
  caFile: readonly X509Certificate[];
}

const MAX_CHAIN = 10;
const MAX_LABEL = 64;

/** Splits PEM text (one or many certificates per string) into parsed certificates; skips blocks that do not parse. */
export function parsePemCertificates(pems: readonly string[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  const re = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
  for (const pem of pems) {
    for (const match of pem.matchAll(re)) {
      try {
        out.push(new X509Certificate(match[0]));
      } catch {
        // not a certificate: ignored here, the config loader reports bad files
      }
    }
  }
  return out;
}

/**
 * The chain as Node reports it: the leaf, then each issuer. Node appends the anchor
 * it found in the client's trust store when the server did not send it.
 */
export function chainFromPeer(peer: DetailedPeerCertificate | undefined): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  let cur: DetailedPeerCertificate | undefined = peer;
  while (cur !== undefined && out.length < MAX_CHAIN) {
    const raw: unknown = cur.raw;
    if (!Buffer.isBuffer(raw) || raw.length === 0) break;
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(raw);
    } catch {
      break;
    }
    if (seen.has(cert.fingerprint256)) break;
    seen.add(cert.fingerprint256);
    out.push(cert);
    const next: unknown = cur.issuerCertificate;
    cur = typeof next === 'object' && next !== null && next !== cur ? (next as DetailedPeerCertificate) : undefined;
  }
  return out;
}

/** notAfter in unix seconds, or NaN when unparsable. */
export function notAfterSeconds(cert: X509Certificate): number {
  return Math.floor(Date.parse(cert.validTo) / 1000);
}

function validAt(cert: X509Certificate, nowMs: number): boolean {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  return Number.isFinite(from) && Number.isFinite(to) && from <= nowMs && nowMs <= to;
}

/**
 * Whether `chain` (leaf first, then whatever the server sent) builds to one of
 * `anchors`. Intermediates come from the chain itself; an anchor may be presented
 * by the server or only be in `anchors`.
 */
export function chainsTo(chain: readonly X509Certificate[], anchors: readonly X509Certificate[], nowMs: number = Date.now()): boolean {
  const leaf = chain[0];
  if (leaf === undefined || anchors.length === 0) return false;
  const anchorPrints = new Set(anchors.map((a) => a.fingerprint256));
  const intermediates = chain.slice(1).filter((c) => !anchorPrints.has(c.fingerprint256));
  const visit = (cert: X509Certificate, depth: number, seen: Set<string>): boolean => {
    if (!validAt(cert, nowMs)) return false;
    if (anchorPrints.has(cert.fingerprint256)) return true;
    if (depth >= MAX_CHAIN) return false;
    for (const anchor of anchors) {
      if (cert.checkIssued(anchor) && validAt(anchor, nowMs) && safeVerify(cert, anchor)) return true;
    }
    for (const next of intermediates) {
      if (seen.has(next.fingerprint256) || !next.ca) continue;
      if (!cert.checkIssued(next) || !safeVerify(cert, next)) continue;
      if (visit(next, depth + 1, new Set([...seen, next.fingerprint256]))) return true;
    }
    return false;
  };
  return visit(leaf, 0, new Set([leaf.fingerprint256]));
}

function safeVerify(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** The first value of an attribute in Node's multi-line DN string ("O=Egress Test\nCN=..."). */
export function dnField(dn: string, key: 'CN' | 'O'): string {
  for (const line of dn.split('\n')) {
    // multi-valued RDNs are joined with " + "
    for (const part of line.split(' + ')) {
      if (part.startsWith(`${key}=`)) return part.slice(key.length + 1);
    }
  }
  return '';
}

function bounded(value: string): string {
  // Labels must stay short and printable.
  const clean = Array.from(value, (ch) => (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f ? ' ' : ch))
    .join('')
    .trim();
  return clean.length > MAX_LABEL ? clean.slice(0, MAX_LABEL) : clean;
}

/** Interception by expected issuers: see the rule at the top of this file. */
export function matchesExpectedIssuer(chain: readonly X509Certificate[], expectedIssuers: readonly string[]): boolean {
  const wanted = expectedIssuers.map((e) => e.trim().toLowerCase()).filter((e) => e.length > 0);
  return chain.some((cert) => {
    const fields = [dnField(cert.issuer, 'O'), dnField(cert.issuer, 'CN')].map((f) => f.toLowerCase()).filter((f) => f.length > 0);
    return fields.some((field) => wanted.some((w) => field.includes(w)));
  });
}

export interface CertFactsInput {
  /** Leaf first. */
  chain: readonly X509Certificate[];
  /** OpenSSL's verdict (tlsSocket.authorized), with system roots + ca_file and the host name check. */
  authorized: boolean;
  authorizationError?: string;
  anchors: TrustAnchors;
  expectedIssuers?: readonly string[];
  nowMs?: number;
}

/** Undefined when there is no certificate at all. */
export function certFacts(input: CertFactsInput): TlsCertFacts | undefined {
  const { chain, anchors } = input;
  const leaf = chain[0];
  if (leaf === undefined) return undefined;
  const nowMs = input.nowMs ?? Date.now();
  const toSystem = chainsTo(chain, anchors.system, nowMs);
  const toCaFile = chainsTo(chain, anchors.caFile, nowMs);
  let trust: TlsCertFacts['trust'] = 'none';
  if (input.authorized) {
    if (toSystem) trust = 'system';
    else if (toCaFile) trust = 'ca_file';
    // OpenSSL verified but the offline builder found no path (it should not happen):
    // attribute it to ca_file when one is configured, since that is the smaller set.
    else trust = anchors.caFile.length > 0 ? 'ca_file' : 'system';
  }
  const expected = (input.expectedIssuers ?? []).filter((e) => e.trim().length > 0);
  const intercepted = expected.length > 0 ? !matchesExpectedIssuer(chain, expected) : toCaFile && !toSystem;
  const notAfters = chain.map(notAfterSeconds).filter((n) => Number.isFinite(n));
  const leafNotAfter = notAfterSeconds(leaf);
  const facts: TlsCertFacts = {
    leafNotAfter: Number.isFinite(leafNotAfter) ? leafNotAfter : 0,
    earliestNotAfter: notAfters.length > 0 ? Math.min(...notAfters) : 0,
    issuerCN: bounded(dnField(leaf.issuer, 'CN')),
    issuerO: bounded(dnField(leaf.issuer, 'O')),
    verified: input.authorized,
    trust,
    intercepted,
    subjectCN: bounded(dnField(leaf.subject, 'CN')),
    chainLength: chain.length,
  };
  if (!input.authorized) facts.authorizationError = bounded(input.authorizationError ?? 'unknown');
  return facts;
}

const parsedCache = new WeakMap<readonly string[], X509Certificate[]>();

/** parsePemCertificates, memoised per array (the system roots and a config's ca_file list are long-lived). */
export function anchorsFromPems(pems: readonly string[]): X509Certificate[] {
  let parsed = parsedCache.get(pems);
  if (parsed === undefined) {
    parsed = parsePemCertificates(pems);
    parsedCache.set(pems, parsed);
  }
  return parsed;
}

type Issuer = Pick<TlsCertFacts, 'issuerCN' | 'issuerO'>;

/** Who issued the leaf, to compare with another chain's (interception, the requirement basis); never shown. */
export function issuerIdentity(cert: Issuer): string {
  return `${cert.issuerCN}\u0000${cert.issuerO}`;
}

/** How a person reads the leaf's issuer, in a label or a message: `CN=GTS WR3, O=Google Trust Services`, bounded (each part at most 64 characters). */
export function issuerLabel(cert: Issuer): string {
  return [cert.issuerCN && `CN=${cert.issuerCN}`, cert.issuerO && `O=${cert.issuerO}`].filter(Boolean).join(', ') || 'unknown';
}
