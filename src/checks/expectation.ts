// The other half of an allowlist: whether a path that must stay blocked (a target's
// `expect: blocked`, on every path or on some) did. Decided here and nowhere else, once a
// round (round.ts, after the judgement across paths), from what the path's checks found;
// metrics, alerts, the status page, `check` and /probe read the verdict.
//
// What counts as "got out" (reachable), per check; each is a reply from the host itself:
//   http  an HTTP answer that is not the proxy's own (X-Squid-Error, Proxy-Status),
//         over a certificate that names the host
//   tls   a handshake whose certificate names the host (it verifies for the name; or,
//         when its chain does not verify, its subject CN is the host)
//   tcp   a connect that completes: directly, to an address the dns check gave (never a
//         sinkholed one); through a proxy, its 200 to CONNECT. Only for a target that runs
//         neither tls nor http: an SNI filter lets the connect through and cuts the handshake.
//   dns   an answer with addresses that are not a sinkhole; only for a target with no
//         other check (a resolver that must sinkhole a name).
//
// What counts as blocked, taken first: the proxy refuses (403, 407) or says it cannot
// reach or resolve the host (502, 503, 504; inside a bumped tunnel too); a certificate for
// another name answers (a block page). Then, when nothing got out, the first check of the
// path that failed (tcp, http, tls, in the order they run) says how:
//   refused, unreachable, reset, a TLS alert or not TLS     blocked
//   nxdomain, nodata, sinkholed (no address to connect to)  blocked
//   timeout, proxy_timeout, proxy_closed (silence)          blocked while the path reaches
//                                                           a host that must work
//                                                           (path-health.ts); else unknown
//   anything else (servfail, a proxy that is down, ...)     unknown: could not tell
import type { CheckName } from '../model/types.js';
import { expectationOn } from '../model/types.js';
import type { HttpResult } from '../probes/http/http.js';
import type { DnsResult } from '../probes/net/dns.js';
import { PROXY_DENIED_REASONS, PROXY_UPSTREAM_REASONS } from '../probes/reasons.js';
import type { FailureReason } from '../probes/reasons.js';
import { issuerLabel } from '../probes/tls/tls-certs.js';
import type { TlsCertFacts } from '../probes/tls/tls-certs.js';
import type { ProbeOutcome } from '../probes/types.js';
import type { RoundContext } from './context.js';
import { healthWindowMs } from './path-health.js';
import type { BlockedJudgement, PathReport, RoundReport } from './report.js';

/** The proxy refuses the host, or says it could not reach it: it did not get out. */
const PROXY_REFUSALS: readonly FailureReason[] = [...PROXY_DENIED_REASONS, ...PROXY_UPSTREAM_REASONS];
/** The path answered with a refusal of its own. */
const REFUSALS: readonly FailureReason[] = ['refused', 'unreachable', 'reset', 'tls_handshake_failed'];
/** No answer at all: a drop, or a dead path. */
const SILENCES: readonly FailureReason[] = ['timeout', 'proxy_timeout', 'proxy_closed'];
/** What a resolver answers for a name it must keep out (a DNS filter: NXDOMAIN, NODATA, or a sinkhole address). */
const DNS_REFUSALS: readonly FailureReason[] = ['nxdomain', 'nodata', 'sinkholed'];

const blocked = (check: CheckName | undefined, detail: string): BlockedJudgement => ({ verdict: 'blocked', ...(check && { check }), detail });
const reachable = (check: CheckName, detail: string): BlockedJudgement => ({ verdict: 'reachable', check, detail: `got out: ${detail}` });
const unknown = (check: CheckName | undefined, detail: string): BlockedJudgement => ({ verdict: 'unknown', ...(check && { check }), detail: `could not tell: ${detail}` });

const said = (r: ProbeOutcome): string => (r.message ? `: ${r.message}` : '');

/** Whether a name matches a certificate name (exact, or `*.` for one label). */
function nameMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p === h) return true;
  return p.startsWith('*.') && h.slice(h.indexOf('.') + 1) === p.slice(2) && h.indexOf('.') > 0;
}

/**
 * Whose certificate: `host` when it names the host, `other` when it names another, undefined
 * when nothing says. A verified chain was checked for the name (OpenSSL); a chain that
 * verifies but for another name says so (ERR_TLS_CERT_ALTNAME_INVALID); a chain that does
 * not verify at all was never checked for the name, so its subject CN is read.
 */
function certificateOf(host: string, cert: TlsCertFacts | undefined, http: HttpResult | undefined): 'host' | 'other' | undefined {
  if (cert !== undefined) {
    if (cert.verified) return 'host';
    if (cert.authorizationError === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'other';
    return nameMatches(cert.subjectCN, host) ? 'host' : 'other';
  }
  if (http?.tlsAuthorized === true) return 'host';
  if (http?.tlsAuthorizationError === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'other';
  return undefined;
}

function proxyWords(reason: FailureReason): string {
  if (reason === 'proxy_denied') return 'the proxy denies it (403)';
  if (reason === 'proxy_auth_required') return 'the proxy asks for credentials (407)';
  return 'the proxy cannot reach or resolve it';
}

function refusalWords(reason: FailureReason): string {
  switch (reason) {
    case 'refused':
      return 'the connection is refused';
    case 'unreachable':
      return 'there is no route to it';
    case 'reset':
      return 'the connection is cut (reset)';
    default:
      return 'the TLS handshake fails';
  }
}

/** No address to connect to: what the resolvers answered. */
function dnsVerdict(dns: readonly DnsResult[]): BlockedJudgement {
  const refusing = dns.find((d) => d.reason !== undefined && DNS_REFUSALS.includes(d.reason));
  if (refusing?.reason !== undefined) return blocked('dns', `resolver ${refusing.resolver} answers ${refusing.reason}${said(refusing)}`);
  const failed = dns.find((d) => !d.ok);
  if (failed !== undefined) return unknown('dns', `resolver ${failed.resolver} fails (${failed.reason ?? 'failed'})${said(failed)}, so the name's policy is not known`);
  return unknown('dns', 'no address to connect to');
}

/** A path that must stay blocked, from its checks' results; `reaching` counts the hosts that must work reached on the path lately. */
export function judgeBlockedPath(report: RoundReport, entry: PathReport, reaching: () => number): BlockedJudgement {
  const { target } = report;
  const wants = (check: CheckName): boolean => target.checks.includes(check);
  const { tcp, tls, http } = entry;
  const path = entry.path.name;

  // The proxy's own refusal, before the tunnel or inside a bumped one: kept out by policy.
  for (const [check, r] of [['tcp', tcp], ['http', http], ['tls', tls]] as const) {
    if (r !== undefined && !r.ok && r.reason !== undefined && PROXY_REFUSALS.includes(r.reason)) return blocked(check, `${proxyWords(r.reason)}${said(r)}`);
  }

  // Someone else's certificate answered: a block page, not the host.
  const cert = tls?.certificate;
  const whose = certificateOf(target.host, cert, http);
  if (whose === 'other') {
    const named = cert !== undefined ? ` (CN=${cert.subjectCN}, issued by ${issuerLabel(cert)})` : '';
    return blocked(cert !== undefined ? 'tls' : 'http', `a certificate for another name answers${named}, not the host's`);
  }

  // The host answered.
  if (http?.status !== undefined && http.answeredByProxy !== true) return reachable('http', `the host answers HTTP ${http.status}${entry.path.proxy === null ? '' : ' through the proxy'}`);
  if (tls?.handshake !== undefined && whose === 'host') {
    return reachable('tls', `a TLS handshake completes with the host's certificate${cert !== undefined ? ` (CN=${cert.subjectCN}, issued by ${issuerLabel(cert)})` : ''}`);
  }
  const connected = tcp?.families.flatMap((f) => f.attempts).find((a) => a.ok);
  if (!wants('tls') && !wants('http') && tcp !== undefined && (tcp.ok || connected !== undefined)) {
    return reachable('tcp', entry.path.proxy === null ? `a TCP connect to ${connected?.address ?? target.host} completes` : 'the proxy opens a tunnel to it (200 to CONNECT)');
  }
  if (tcp === undefined && tls === undefined && http === undefined) {
    if (!wants('dns')) return unknown(undefined, 'no check ran on this path');
    const answered = report.dns.find((d) => d.records.some((r) => r.ok && r.addresses.length > 0));
    if (answered !== undefined) return reachable('dns', `resolver ${answered.resolver} answers ${answered.records.flatMap((r) => (r.ok ? r.addresses : [])).join(', ')}`);
    return dnsVerdict(report.dns);
  }

  // Nothing got out: the first check that failed says how (those after it were not tried,
  // or failed the same way): a deeper check's failure after a connect is what an SNI filter does.
  const first = ([['tcp', tcp], ['http', http], ['tls', tls]] as const).find(([, r]) => r !== undefined && !r.ok);
  if (first === undefined) return unknown(undefined, 'no check on this path failed, yet none shows the host');
  const [check, failed] = first;
  const reason = failed?.reason;
  if (failed === undefined || reason === undefined) return unknown(check, `the ${check} check has no reason`);
  if (reason === 'no_addresses') return dnsVerdict(report.dns);
  if (REFUSALS.includes(reason)) return blocked(check, `${refusalWords(reason)}${said(failed)}`);
  if (SILENCES.includes(reason)) {
    const n = reaching();
    return n > 0
      ? blocked(check, `no answer (${reason}), while ${n} host${n === 1 ? '' : 's'} that must work answer${n === 1 ? 's' : ''} on path ${path}`)
      : unknown(check, `no answer (${reason}), and no host that must work answered on path ${path} lately, so a drop cannot be told from a dead path`);
  }
  return unknown(check, `the ${check} check fails with ${reason}${said(failed)}`);
}

/** Judges every path of the round that must stay blocked (and clears the verdict of one that no longer must). `check` calls it again once every round of its run is in. */
export function judgeExpectations(report: RoundReport, ctx: Pick<RoundContext, 'pathHealth' | 'config' | 'now'>): void {
  const nowMs = ctx.now();
  for (const entry of report.paths) {
    if (expectationOn(report.target, entry.path.name) !== 'blocked') {
      delete entry.blocked;
      continue;
    }
    // Asked only after a silence (a cron schedule's period costs a parse).
    entry.blocked = judgeBlockedPath(report, entry, () => ctx.pathHealth.reaching(entry.path.name, nowMs, healthWindowMs(ctx.config)));
  }
}

/** Whether every path of the target must stay blocked: then nothing of it must work, its name's lookup included. */
export function blockedEverywhere(report: RoundReport): boolean {
  return report.paths.length > 0 && report.paths.every((p) => expectationOn(report.target, p.path.name) === 'blocked');
}
