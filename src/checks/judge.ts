// Cross-path judgement, decided here and nowhere else: whether a path's chain
// was re-signed (interception), whether its HTTP was downgraded, whether the
// target's clients resolve its name themselves, and whether a whole round meets
// every requirement. The round applies it once to its report; metrics, logs, the
// status page, /probe and the check command read the result.
import { issuerIdentity, issuerLabel } from '../probes/tls/tls-certs.js';
import type { TlsResult } from '../probes/tls/tls.js';
import type { ProbeOutcome } from '../probes/types.js';
import type { Target } from '../model/types.js';
import { expectationOn } from '../model/types.js';
import { blockedEverywhere } from './expectation.js';
import { DIRECT_PATH } from './paths.js';
import { checkResults } from './path-checks.js';
import type { RoundReport } from './report.js';

/**
 * What one path cannot know alone. Interception: see interceptedOn. A
 * downgrade: HTTP/1.1 where the host is known to speak h2, from the catalog
 * or because another path (or this host's TLS) got h2 this round. A check that
 * worked only at the price of a downgrade or an interception has not passed.
 */
export function judgeAcrossPaths(report: RoundReport): void {
  const { target } = report;
  const directCert = report.paths.find((p) => p.path.proxy === null)?.tls?.certificate;
  const directIssuer = directCert?.verified ? issuerIdentity(directCert) : undefined;
  const speaksH2 = target.h2 === true || report.paths.some((p) => p.http?.protocol === '2' || p.tls?.handshake?.alpn === 'h2');
  for (const entry of report.paths) {
    if (entry.tls) {
      // Issuers of the verified chains other paths saw: the host's real chain, most likely.
      const verifiedElsewhere = report.paths
        .flatMap((other) => (other !== entry && other.tls?.certificate?.verified === true ? [issuerIdentity(other.tls.certificate)] : []));
      entry.intercepted = interceptedOn(target, entry.path.name, entry.tls, directIssuer, verifiedElsewhere);
    }
    const protocol = entry.http?.protocol;
    if (protocol !== undefined) entry.downgraded = protocol === '1.1' && speaksH2;
    if (entry.http?.ok === true && entry.downgraded === true) {
      entry.http = { ...entry.http, ok: false, reason: 'http2_downgraded', message: `offered h2, got HTTP/1.1 from ${target.host}, which speaks h2` };
    }
    if (entry.tls !== undefined && entry.intercepted === true) entry.tls = interceptedVerdict(entry.tls, entry.path.expectInterception);
  }
}

/**
 * On a path where the chain was re-signed, the client's TLS ends at the proxy: what the
 * requirement handshakes found is the proxy's (mitmproxy, with its RSA CA, cannot meet an
 * ECDSA-only offer), not the path's to the host. They stay as facts and count against
 * nothing. Where interception is not expected it is the fault (tls_intercepted); where it
 * is, the check stands on the unconstrained handshake and the chain (verified, with the
 * proxy's CA in tls.ca_file).
 */
function interceptedVerdict(tls: TlsResult, expected: boolean): TlsResult {
  if (tls.handshake === undefined) return tls;
  const issuer = tls.certificate ? issuerLabel(tls.certificate) : 'another CA';
  if (!expected) return { ...tls, ok: false, reason: 'tls_intercepted', message: `the chain was re-signed by ${issuer}${tls.message ? `; ${tls.message}` : ''}` };
  const verified = tls.certificate?.verified === true;
  const out: TlsResult = { ...tls, ok: verified, message: `re-signed by ${issuer}, as expected on this path: its requirement verdicts are the proxy's${tls.message ? `; ${tls.message}` : ''}` };
  if (verified) delete out.reason;
  else out.reason = 'tls_cert_invalid';
  return out;
}

/**
 * Whether the target's clients resolve its name themselves (dns.required, else: when it has
 * a direct path that must work). Only then is a failed lookup a failure. A target that must
 * stay blocked on every path has no lookup to require: an NXDOMAIN or a sinkhole keeps it out.
 */
export function dnsRequired(report: RoundReport, required: boolean | null): boolean {
  if (blockedEverywhere(report)) return false;
  return required ?? report.paths.some((p) => p.path.proxy === null && expectationOn(report.target, p.path.name) === 'reachable');
}

/**
 * Whether the chain on `path` was re-signed by another CA.
 * - With expected issuers (catalog or config), the probe's verdict stands.
 * - Otherwise the direct path is the reference: never intercepted itself, and
 *   a proxy path whose leaf issuer differs from the direct path's (verified)
 *   one is.
 * - With no direct path: a chain that does not verify, while another path saw
 *   a verified chain from another issuer, is a proxy re-signing with a CA
 *   nobody trusts.
 * - With no direct path, a chain that verifies only through tls.ca_file (not
 *   the public roots: the system's plus tls.public_ca_file) is re-signed, unless
 *   the target is marked private_ca (a pull-through cache signed by a private CA).
 * - Nothing else to compare with: not intercepted.
 */
export function interceptedOn(
  target: Target,
  path: string,
  result: TlsResult,
  directIssuer: string | undefined,
  verifiedElsewhere: readonly string[] = [],
): boolean | undefined {
  const cert = result.certificate;
  if (cert === undefined) return undefined;
  if (target.expectedIssuers !== undefined && target.expectedIssuers.length > 0) return cert.intercepted;
  if (path === DIRECT_PATH) return false;
  const issuer = issuerIdentity(cert);
  if (directIssuer !== undefined) return issuer !== directIssuer;
  // No direct path to compare with (the corporate case): a public host's chain that
  // verifies only through tls.ca_file, not the public roots, was re-signed by a CA
  // trusted for inspection, unless the target says a private CA really signs it.
  if (cert.verified && cert.trust === 'ca_file' && target.privateCa !== true) return true;
  return !cert.verified && verifiedElsewhere.some((other) => other !== issuer);
}

/** The dns check's outcome for the table: the first failing resolver, else the first. */
export function dnsSummary(report: RoundReport): ProbeOutcome | undefined {
  if (report.dns.length === 0 || !report.target.checks.includes('dns')) return undefined;
  return report.dns.find((d) => !d.ok) ?? report.dns[0];
}

/**
 * Whether a judged round meets every requirement: every check the target runs, on every
 * path that must work (the registry pull too), each already judged across paths (a
 * downgrade or an unexpected interception fails its check); the dns check only where the
 * target's clients resolve the name themselves. A path that must stay blocked counts by its
 * verdict alone: ok when it stayed blocked, failing when something got out or nothing could
 * tell (expectation.ts). The one verdict `check`, the status page and /probe's probe_success read.
 */
export function roundOk(report: RoundReport): boolean {
  const blockedPaths = new Set(report.paths.filter((p) => p.blocked !== undefined).map((p) => p.path.name));
  const mustWork = checkResults(report).every(
    (r) => r.outcome.ok || (r.check === 'dns' && report.dnsRequired === false) || ('path' in r.where && blockedPaths.has(r.where.path)),
  );
  return mustWork && report.paths.every((p) => p.blocked === undefined || p.blocked.verdict === 'blocked');
}
