// How the tls check judges its handshakes: each part against what its requirement
// expects, a requirement from its parts, and the check from its requirements, its
// unconstrained handshake and its chain (the order of reasons in tls.ts's header).
import type { FailureReason } from '../reasons.js';
import type { HandshakeRun, ObservedHandshake } from './handshake.js';
import type { TlsCertFacts } from './tls-certs.js';
import type { HandshakeExpectation, RequirementSpec } from './tls-requirements.js';
import type { RequirementResult, TlsResult, TlsVerdict } from './tls-result.js';
import { signatureSchemeName } from './tls-wire.js';

interface PartVerdict {
  /** not_spoken: the handshake pinned a version no handshake of this probe got; the other parts judge. */
  verdict: TlsVerdict | 'not_spoken';
  version?: string;
  reason?: FailureReason;
  detail: string;
}

function judgeSuccess(facts: ObservedHandshake, expect: HandshakeExpectation): PartVerdict {
  if (facts.reused) return { verdict: 'untested', reason: 'internal_error', detail: 'session was resumed' };
  if (expect.version !== undefined && facts.version !== expect.version) return { verdict: 'not_met', detail: `negotiated ${facts.version}` };
  if (expect.cipher !== undefined && facts.cipher !== expect.cipher) return { verdict: 'not_met', detail: `negotiated ${facts.cipher}` };
  if (expect.group !== undefined && facts.group !== expect.group) return { verdict: 'not_met', detail: `key exchange ${facts.group}` };
  if (expect.alpn !== undefined && facts.alpn !== expect.alpn) {
    return { verdict: 'not_met', detail: facts.alpn === 'none' ? 'no ALPN protocol selected' : `selected ${facts.alpn}` };
  }
  if (expect.ems === 'always' || (expect.ems === 'if_tls12' && facts.version === 'TLSv1.2')) {
    if (facts.version !== 'TLSv1.2') return { verdict: 'not_met', detail: `negotiated ${facts.version}` };
    if (facts.ems === null) return { verdict: 'untested', reason: 'internal_error', detail: 'EMS not observable' };
    if (!facts.ems) return { verdict: 'not_met', detail: 'EMS absent in ServerHello' };
  }
  if (expect.signatureScheme !== undefined && facts.signatureScheme !== undefined && facts.signatureScheme !== expect.signatureScheme) {
    return { verdict: 'not_met', detail: `server signed with ${signatureSchemeName(facts.signatureScheme)}` };
  }
  const parts = [facts.version, facts.cipher, facts.group];
  if (facts.alpn !== 'none') parts.push(`alpn ${facts.alpn}`);
  if (facts.ems !== null) parts.push(facts.ems ? 'EMS' : 'no EMS');
  return { verdict: 'met', detail: parts.join(' ') };
}

export function judgePart(run: HandshakeRun, expect: HandshakeExpectation, spoken: ReadonlySet<string>): PartVerdict {
  switch (run.status) {
    case 'untested':
      return { verdict: 'untested', reason: run.reason, detail: run.detail };
    case 'failed':
      if (expect.version !== undefined && !spoken.has(expect.version)) return { verdict: 'not_spoken', version: expect.version, detail: run.detail };
      return { verdict: 'not_met', detail: run.detail };
    default:
      return judgeSuccess(run.facts, expect);
  }
}

/** Met only if every part is met; not met if any part is not met (even if another was untested). */
export function combine(spec: RequirementSpec, all: PartVerdict[], durationSeconds: number): RequirementResult {
  // A requirement over several versions is judged on each version the server speaks
  // (a TLS 1.2-only server can meet "P-256 on 1.3 and 1.2"); it fails only when the
  // server speaks none of them. A single-version requirement: a refused version is not met.
  const spoken = all.filter((p) => p.verdict !== 'not_spoken');
  const judged = all.length > 1 && spoken.length > 0 ? spoken : all;
  const ids = all.map((p, i) => (judged.includes(p) ? spec.handshakes[i]!.id : undefined)).filter((id) => id !== undefined);
  const parts = judged.map((p) => (p.verdict === 'not_spoken' ? { ...p, verdict: 'not_met' as const } : p)) as Array<PartVerdict & { verdict: TlsVerdict }>;
  const skipped = all.filter((p) => !judged.includes(p)).map((p) => `${p.version ?? 'that version'} not spoken (${p.detail})`);
  const label = (i: number) => (spec.handshakes.length > 1 ? `${ids[i]!}: ` : '');
  const note = skipped.length > 0 ? `; ${skipped.join('; ')}` : '';
  const notMet = parts.findIndex((p) => p.verdict === 'not_met');
  if (notMet >= 0) return { requirement: spec.requirement, verdict: 'not_met', detail: label(notMet) + parts[notMet]!.detail + note, durationSeconds };
  const untested = parts.findIndex((p) => p.verdict === 'untested');
  if (untested >= 0) {
    const part = parts[untested]!;
    return { requirement: spec.requirement, verdict: 'untested', reason: part.reason ?? 'internal_error', detail: label(untested) + part.detail, durationSeconds };
  }
  return { requirement: spec.requirement, verdict: 'met', detail: parts.map((p, i) => label(i) + p.detail).join('; ') + note, durationSeconds };
}

/** How the unconstrained handshake went, as far as the overall reason cares. */
type BaseStatus = Pick<HandshakeRun, 'status'> & { reason?: FailureReason };

/** The check's reason, in the order of tls.ts's header; undefined when it passes. */
export function overallReason(requirements: readonly RequirementResult[], base: BaseStatus, cert: TlsCertFacts | undefined): FailureReason | undefined {
  if (base.status === 'untested') return base.reason ?? 'internal_error';
  const untested = requirements.find((r) => r.verdict === 'untested');
  if (untested !== undefined) return untested.reason ?? 'internal_error';
  if (base.status === 'failed') return 'tls_handshake_failed';
  if (cert === undefined || !cert.verified) return 'tls_cert_invalid';
  if (requirements.some((r) => r.verdict === 'not_met')) return 'tls_handshake_failed';
  return undefined;
}

/**
 * A round that ran only the default handshake, with the verdicts of the last
 * requirement run carried onto it: overall ok and reason as if they had run now
 * (overallReason with the handshake that succeeded). Without a default handshake
 * there is nothing to carry them onto: the result stays as it is.
 */
export function withRequirements(result: TlsResult, requirements: readonly RequirementResult[]): TlsResult {
  if (result.handshake === undefined) return result;
  const reason = overallReason(requirements, { status: 'ok' }, result.certificate);
  const parts = [result.message ?? '', ...requirements.filter((r) => r.verdict !== 'met').map((r) => `${r.requirement} ${r.verdict}: ${r.detail}`)];
  const out: TlsResult = { ...result, ok: reason === undefined, requirements: [...requirements], message: parts.filter(Boolean).join('; ') };
  if (reason === undefined) delete out.reason;
  else out.reason = reason;
  return out;
}

export function summary(base: HandshakeRun, requirements: RequirementResult[], cert: TlsCertFacts | undefined): string {
  const parts: string[] = [];
  if (base.status === 'ok') parts.push(`default: ${base.facts.version} ${base.facts.cipher} ${base.facts.group} alpn ${base.facts.alpn}`);
  else parts.push(`default handshake ${base.status === 'failed' ? 'failed' : `untested (${base.reason})`}: ${base.detail}`);
  if (cert !== undefined && !cert.verified) parts.push(`certificate not verified: ${cert.authorizationError ?? 'unknown'}`);
  for (const r of requirements) if (r.verdict !== 'met') parts.push(`${r.requirement} ${r.verdict}: ${r.detail}`);
  return parts.join('; ');
}
