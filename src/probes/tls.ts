// The TLS check: one unconstrained handshake that records what a default client
// gets (version, cipher, group, ALPN, time, certificate chain), and one fresh
// handshake per requirement with the client constrained to exactly that requirement
// (tls-requirements.ts).
//
// Verdicts. A requirement is judged only when its handshake
//   - succeeds (then what it negotiated is checked against the requirement),
//   - ends in a TLS alert from the peer, or
//   - ends in a local "no cipher / no protocol / server picked what we did not offer"
//     error.
// Everything else means the path could not be tested and the requirement is
// 'untested' with the reason: a timeout or stall, a reset or a close without an alert,
// a refused or unreachable dial, a proxy error from the dial (a CONNECT tunnel closed
// before a single byte came back is 'proxy_closed': the proxy dropped it), or an answer
// that is not TLS at all (reason 'tls_handshake_failed'). A path that cannot be tested
// never reads as "not met".
//
// Overall result (`ok`): the unconstrained handshake succeeded, the certificate
// verified and every requirement is met. Otherwise `reason` is the first of:
//   1. the unconstrained handshake untested      -> its reason (timeout, reset, refused, ...)
//   2. any requirement untested                  -> that reason (it explains the absent series)
//   3. the unconstrained handshake failed         -> tls_handshake_failed (alert or local error)
//   4. the certificate did not verify              -> tls_cert_invalid
//   5. a requirement is not met                     -> tls_handshake_failed
// Interception does not change `ok`: it has its own metric.
//
// The unconstrained handshake may be another check's (`shared`: the http check's on the
// same path, offered exactly as this one would be): then it is judged, not made again.
//
// Hygiene: no session is ever resumed (client SecureContexts have no session cache
// lookup and no `session` option is passed; `isSessionReused()` is recorded and
// asserted in the tests). Every handshake dials its own connection, has its own
// deadline (min of handshakeTimeoutMs and the caller's signal), and every socket and
// timer is released before the probe resolves. At most `concurrency` handshakes per
// target run at once.
import { rootCertificates } from 'node:tls';
import type { SecureContext, TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import type { FailureReason } from './reasons.js';
import { withDeadline } from './abort.js';
import { secondsSince } from './clock.js';
import { errorMessage } from './errors.js';
import type { Dial, ProbeOutcome } from './types.js';
import type { Target } from '../model/types.js';
import { PREPARED_HANDSHAKES, REQUIREMENT_SPECS, TLS_REQUIREMENTS } from './tls-requirements.js';
import type { HandshakeExpectation, RequirementSpec, TlsRequirement } from './tls-requirements.js';
import { anchorsFromPems, certFacts, chainFromPeer } from './tls-certs.js';
import { dialTls, trustedContext } from './tls-client.js';
import type { HandshakeWitness, TlsConnected, TrustOptions } from './tls-client.js';
import type { TlsCertFacts } from './tls-certs.js';
import { groupName, signatureSchemeName } from './tls-wire.js';
import type { WireObservation } from './tls-wire.js';

export { TLS_REQUIREMENTS, REQUIREMENT_SPECS };
export type { TlsRequirement, TlsCertFacts };

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

export interface TlsProbeOptions extends TrustOptions {
  /** Opens the byte stream (TCP, or a proxy tunnel); called once per handshake. */
  dial: Dial;
  /** SNI and name to verify; default target.host. An IP literal is verified but not sent as SNI. */
  servername?: string;
  /** Issuer O/CN substrings the host's chain is known to come from (interception check). */
  expectedIssuers?: readonly string[];
  /** Deadline of one handshake, dial included. Default 5000 ms. The probe's signal always wins. */
  handshakeTimeoutMs?: number;
  /** Handshakes in flight at once for this target. Default 3. */
  concurrency?: number;
  /** Which requirements to check. Default: all of TLS_REQUIREMENTS. */
  requirements?: readonly TlsRequirement[];
  /** A default handshake another check made on this path (SharedDefaultHandshake): judged instead of making one, when it was made as this probe's own would be. */
  shared?: SharedDefaultHandshake;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;
export const DEFAULT_CONCURRENCY = 3;
/** ALPN of the unconstrained handshake: what curl, browsers and undici offer. */
const DEFAULT_ALPN = ['h2', 'http/1.1'];

/** What one handshake showed. */
interface ObservedHandshake extends TlsHandshakeFacts {
  signatureScheme?: number;
  reused: boolean;
  authorized: boolean;
  authorizationError?: string;
  /** The leaf's SHA-256 fingerprint (base handshake only): what the chain facts are cached by. */
  leafFingerprint?: string;
  /** Empty when the facts of this leaf are cached (certFactsFor). */
  chain: X509Certificate[];
}

/**
 * Chain facts per leaf: the same leaf, verified the same way against the same
 * trust, has the same facts, so a round need not rebuild and re-verify its chain
 * (getPeerCertificate(true) and the path building were a tenth of the CPU).
 * A re-signing proxy forges another leaf, so interception is never hidden by it.
 * Entries live at most CERT_FACTS_TTL_MS and never past the chain's first expiry.
 */
const CERT_FACTS_TTL_MS = 10 * 60_000;
const CERT_FACTS_MAX = 4096;
const certFactsCache = new Map<string, { facts: TlsCertFacts; untilMs: number }>();
const trustIds = new WeakMap<readonly string[], number>();
let nextTrustId = 0;
function trustId(pems: readonly string[]): number {
  let id = trustIds.get(pems);
  if (id === undefined) {
    id = nextTrustId++;
    trustIds.set(pems, id);
  }
  return id;
}

/** The trust a chain is judged under: system roots, tls.ca_file and expected issuers. */
function trustKey(systemRoots: readonly string[], ca: readonly string[], expectedIssuers: readonly string[] | undefined): string {
  return [trustId(systemRoots), trustId(ca), (expectedIssuers ?? []).join('\u0001')].join('\u0000');
}

function certFactsKey(leaf: string, authorized: boolean, authorizationError: string | undefined, trust: string): string {
  return [leaf, authorized, authorizationError ?? '', trust].join('\u0000');
}

function cachedCertFacts(key: string, nowMs: number): TlsCertFacts | undefined {
  const hit = certFactsCache.get(key);
  if (hit === undefined) return undefined;
  if (nowMs >= hit.untilMs) {
    certFactsCache.delete(key);
    return undefined;
  }
  return hit.facts;
}

function cacheCertFacts(key: string, facts: TlsCertFacts, nowMs: number): void {
  if (certFactsCache.size >= CERT_FACTS_MAX) certFactsCache.delete(certFactsCache.keys().next().value as string);
  certFactsCache.set(key, { facts, untilMs: Math.min(nowMs + CERT_FACTS_TTL_MS, facts.earliestNotAfter * 1000) });
}

type HandshakeRun =
  | { status: 'ok'; facts: ObservedHandshake; durationSeconds: number }
  | { status: 'failed'; detail: string; durationSeconds: number }
  | { status: 'untested'; reason: FailureReason; detail: string; durationSeconds: number };

function negotiatedGroup(wire: WireObservation, socket: TLSSocket): string {
  const hello = wire.serverHello;
  if (hello?.version === 0x0304 && hello.keyShareGroup !== undefined) return groupName(hello.keyShareGroup);
  const ske = wire.serverKeyExchange;
  if (ske?.kx === 'ecdhe' && ske.namedCurve !== undefined) return groupName(ske.namedCurve);
  if (ske?.kx === 'dhe') return 'dhe';
  const info = socket.getEphemeralKeyInfo();
  if (info === null || typeof info !== 'object' || !('type' in info)) return 'none';
  if (info.type === 'DH') return 'dhe';
  switch (info.name) {
    case 'prime256v1':
      return 'P-256';
    case 'secp384r1':
      return 'P-384';
    case 'secp521r1':
      return 'P-521';
    case 'X25519':
    case 'X448':
      return info.name;
    default:
      return info.name === undefined ? 'none' : 'other';
  }
}

function observe(tls: TlsConnected, needsChain: HandshakePlan['needsChain']): ObservedHandshake {
  const { socket, wire } = tls;
  const cipher = socket.getCipher() as { standardName?: string; name?: string } | undefined;
  const facts: ObservedHandshake = {
    version: tls.version,
    cipher: cipher?.standardName ?? cipher?.name ?? 'unknown',
    group: negotiatedGroup(wire, socket),
    alpn: tls.alpn,
    // The tap sees every byte before TLS does, so a TLS 1.2 handshake that succeeded had
    // its ServerHello parsed; without one, EMS is 'not observable' (judgeSuccess).
    ems: tls.version === 'TLSv1.2' ? (wire.serverHello?.ems ?? null) : null,
    handshakeSeconds: tls.seconds,
    reused: socket.isSessionReused(),
    authorized: tls.authorized,
    chain: [],
  };
  if (wire.serverKeyExchange?.signatureScheme !== undefined) facts.signatureScheme = wire.serverKeyExchange.signatureScheme;
  if (tls.authorizationError !== undefined) facts.authorizationError = tls.authorizationError;
  if (needsChain !== undefined) {
    // getPeerCertificate(false), not getPeerX509Certificate(): after the latter, Node 20 answers getPeerCertificate(true) with {}.
    const leaf: string | undefined = tls.leafFingerprint ?? (socket.getPeerCertificate(false).fingerprint256 || undefined);
    if (leaf !== undefined) facts.leafFingerprint = leaf;
    if (leaf === undefined || needsChain(leaf, facts.authorized, facts.authorizationError)) facts.chain = chainFromPeer(socket.getPeerCertificate(true));
  }
  return facts;
}

interface HandshakePlan {
  context: SecureContext;
  alpn?: readonly string[];
  /** The base handshake: whether the chain must be read for this leaf (not cached). Absent: never read it. */
  needsChain?: (leaf: string, authorized: boolean, authorizationError: string | undefined) => boolean;
}

interface Connection {
  servername: string;
  dial: Dial;
  timeoutMs: number;
}

/** One fresh connection and handshake, under its own deadline. Never rejects; leaves nothing open. */
async function runHandshake(conn: Connection, plan: HandshakePlan, parent: AbortSignal): Promise<HandshakeRun> {
  const start = process.hrtime.bigint();
  const deadline = withDeadline(parent, conn.timeoutMs);
  try {
    const tls = await dialTls(conn.dial, { servername: conn.servername, secureContext: plan.context, ...(plan.alpn !== undefined && { alpn: plan.alpn }), signal: deadline.signal });
    if (!tls.ok) {
      const durationSeconds = secondsSince(start);
      return tls.verdict ? { status: 'failed', detail: tls.detail, durationSeconds } : { status: 'untested', reason: tls.reason, detail: tls.detail, durationSeconds };
    }
    try {
      return { status: 'ok', facts: observe(tls, plan.needsChain), durationSeconds: secondsSince(start) };
    } catch (err) {
      return { status: 'untested', reason: 'internal_error', detail: `reading the handshake: ${errorMessage(err)}`, durationSeconds: secondsSince(start) };
    } finally {
      tls.socket.destroy();
      tls.tap.destroy();
    }
  } catch (err) {
    return { status: 'untested', reason: 'internal_error', detail: `unexpected: ${errorMessage(err)}`, durationSeconds: secondsSince(start) };
  } finally {
    deadline.release();
  }
}

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

function judgePart(run: HandshakeRun, expect: HandshakeExpectation, spoken: ReadonlySet<string>): PartVerdict {
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
function combine(spec: RequirementSpec, all: PartVerdict[], durationSeconds: number): RequirementResult {
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

async function limited<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
  return results;
}

function overallReason(requirements: RequirementResult[], base: HandshakeRun, cert: TlsCertFacts | undefined): FailureReason | undefined {
  if (base.status === 'untested') return base.reason;
  const untested = requirements.find((r) => r.verdict === 'untested');
  if (untested !== undefined) return untested.reason ?? 'internal_error';
  if (base.status === 'failed') return 'tls_handshake_failed';
  if (cert === undefined || !cert.verified) return 'tls_cert_invalid';
  if (requirements.some((r) => r.verdict === 'not_met')) return 'tls_handshake_failed';
  return undefined;
}

/** Probes one target. Never throws. */
export async function probeTls(target: Target, options: TlsProbeOptions, signal: AbortSignal): Promise<TlsResult> {
  const start = process.hrtime.bigint();
  try {
    return await probe(target, options, signal, start);
  } catch (err) {
    return {
      ok: false,
      reason: 'internal_error',
      message: `tls probe bug: ${errorMessage(err)}`,
      durationSeconds: secondsSince(start),
      requirements: [],
    };
  }
}

/** The unconstrained handshake under one trust: how it is offered, and the chain facts it yields (cached per leaf). */
class DefaultHandshake {
  readonly plan: HandshakePlan;
  /** Whom the chain is judged by (trustKey): a handshake stands for another only under the same. */
  readonly trust: string;
  /** Set by the plan's needsChain: the cached facts of the leaf it saw. */
  private cachedFacts: TlsCertFacts | undefined;

  constructor(
    readonly servername: string,
    readonly systemRoots: readonly string[],
    readonly ca: readonly string[],
    readonly expectedIssuers: readonly string[] | undefined,
    /** Dial and handshake together, at most. */
    readonly timeoutMs: number,
    private readonly nowMs: number,
  ) {
    this.trust = trustKey(systemRoots, ca, expectedIssuers);
    this.plan = {
      context: trustedContext(systemRoots, ca),
      alpn: DEFAULT_ALPN,
      // The facts found here stand for the chain the handshake then does not read.
      needsChain: (leaf, authorized, authorizationError) => {
        this.cachedFacts = cachedCertFacts(this.key(leaf, authorized, authorizationError), nowMs);
        return this.cachedFacts === undefined;
      },
    };
  }

  private key(leaf: string, authorized: boolean, authorizationError: string | undefined): string {
    return certFactsKey(leaf, authorized, authorizationError, this.trust);
  }

  /** The chain facts of a handshake made with this plan: from its chain, or cached for its leaf. */
  certificate(f: ObservedHandshake): TlsCertFacts | undefined {
    if (f.chain.length === 0 && this.cachedFacts !== undefined) return this.cachedFacts;
    const input: Parameters<typeof certFacts>[0] = {
      chain: f.chain,
      authorized: f.authorized,
      anchors: { system: anchorsFromPems(this.systemRoots), caFile: anchorsFromPems(this.ca) },
    };
    if (f.authorizationError !== undefined) input.authorizationError = f.authorizationError;
    if (this.expectedIssuers !== undefined) input.expectedIssuers = this.expectedIssuers;
    const computed = certFacts(input);
    if (f.leafFingerprint !== undefined && computed !== undefined && f.chain.length > 0) cacheCertFacts(this.key(f.leafFingerprint, f.authorized, f.authorizationError), computed, this.nowMs);
    return computed;
  }
}

function defaultHandshakeFor(target: Target, options: Omit<TlsProbeOptions, 'dial'>, nowMs: number): DefaultHandshake {
  return new DefaultHandshake(options.servername ?? target.host, options.systemRoots ?? rootCertificates, options.ca ?? [], options.expectedIssuers, options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, nowMs);
}

/**
 * The default handshake of another check on the same path (the http check's: round.ts),
 * judged by the tls check instead of one more handshake of its own: one handshake a
 * round where there were two, and the same facts, since it is offered exactly as the
 * tls check's own (the same trust, SNI and ALPN offer; no session). It stands in only
 * when it succeeded within the tls check's handshake deadline; otherwise the tls check
 * makes its own, so its verdicts and reasons are what they were.
 */
export class SharedDefaultHandshake {
  private seen: Extract<HandshakeRun, { status: 'ok' }> | undefined;
  private readonly base: DefaultHandshake;

  constructor(target: Target, options: Omit<TlsProbeOptions, 'dial' | 'shared'>) {
    this.base = defaultHandshakeFor(target, options, Date.now());
  }

  /** For HttpProbeOptions.onHandshake. */
  readonly witness: HandshakeWitness = (connected, offer) => {
    const same = offer.servername === this.base.servername && offer.secureContext === this.base.plan.context && offer.alpn?.join() === DEFAULT_ALPN.join();
    if (!same || offer.durationSeconds * 1000 > this.base.timeoutMs) return;
    try {
      this.seen = { status: 'ok', facts: observe(connected, this.base.plan.needsChain), durationSeconds: offer.durationSeconds };
    } catch {
      // Unreadable: nothing is seen, and the tls check makes its own handshake.
    }
  };

  /** The witnessed handshake, for a probe whose default handshake it stands for. */
  standsFor(base: DefaultHandshake): { run: Extract<HandshakeRun, { status: 'ok' }>; base: DefaultHandshake } | undefined {
    if (this.seen === undefined) return undefined;
    const same = this.base.servername === base.servername && this.base.trust === base.trust;
    return same ? { run: this.seen, base: this.base } : undefined;
  }
}

async function probe(target: Target, options: TlsProbeOptions, signal: AbortSignal, start: bigint): Promise<TlsResult> {
  const own = defaultHandshakeFor(target, options, Date.now());
  const conn: Connection = { servername: own.servername, dial: options.dial, timeoutMs: own.timeoutMs };
  const wanted = new Set<TlsRequirement>(options.requirements ?? TLS_REQUIREMENTS);
  const specs = REQUIREMENT_SPECS.filter((s) => wanted.has(s.requirement));

  const shared = options.shared?.standsFor(own);
  const base = shared?.base ?? own;
  const tasks: (() => Promise<HandshakeRun>)[] = [shared === undefined ? () => runHandshake(conn, own.plan, signal) : () => Promise.resolve(shared.run)];
  const index: { spec: RequirementSpec; taskIds: number[] }[] = [];
  for (const spec of specs) {
    const taskIds: number[] = [];
    for (const hs of spec.handshakes) {
      const prepared = PREPARED_HANDSHAKES.get(hs.id);
      if (prepared === undefined) throw new Error(`no prepared handshake ${hs.id}`);
      const plan: HandshakePlan = { context: prepared.context };
      if (hs.constraints.alpn !== undefined) plan.alpn = hs.constraints.alpn;
      taskIds.push(tasks.length);
      tasks.push(() => runHandshake(conn, plan, signal));
    }
    index.push({ spec, taskIds });
  }

  const runs = await limited(tasks, options.concurrency ?? DEFAULT_CONCURRENCY);
  const first = runs[0]!;

  // The versions the server speaks: those some handshake of this probe negotiated.
  const spoken = new Set(runs.flatMap((run) => (run.status === 'ok' ? [run.facts.version] : [])));
  const requirements = index.map(({ spec, taskIds }) => {
    const parts = taskIds.map((id, i) => judgePart(runs[id]!, spec.handshakes[i]!.expect, spoken));
    const durationSeconds = Math.max(...taskIds.map((id) => runs[id]!.durationSeconds));
    return combine(spec, parts, durationSeconds);
  });

  let handshake: TlsHandshakeFacts | undefined;
  let certificate: TlsCertFacts | undefined;
  if (first.status === 'ok') {
    const f = first.facts;
    handshake = { version: f.version, cipher: f.cipher, group: f.group, alpn: f.alpn, ems: f.ems, handshakeSeconds: f.handshakeSeconds };
    if (shared !== undefined) handshake.madeBy = 'http';
    certificate = base.certificate(f);
  }

  const reason = overallReason(requirements, first, certificate);
  // A shared handshake was made before this probe started: its time is the check's too.
  const durationSeconds = secondsSince(start) + (shared?.run.durationSeconds ?? 0);
  const result: TlsResult = { ok: reason === undefined, durationSeconds, requirements };
  if (reason !== undefined) result.reason = reason;
  if (handshake !== undefined) result.handshake = handshake;
  if (certificate !== undefined) result.certificate = certificate;
  result.message = summary(first, requirements, certificate);
  return result;
}

/**
 * A round that ran only the default handshake, with the verdicts of the last
 * requirement run carried onto it: overall ok and reason as if they had run now.
 */
export function withRequirements(result: TlsResult, requirements: readonly RequirementResult[]): TlsResult {
  const untested = requirements.find((r) => r.verdict === 'untested');
  const notMet = requirements.filter((r) => r.verdict === 'not_met');
  const reason = untested !== undefined ? (untested.reason ?? 'internal_error') : (result.reason ?? (notMet.length > 0 ? 'tls_handshake_failed' : undefined));
  const parts = [result.message ?? '', ...requirements.filter((r) => r.verdict !== 'met').map((r) => `${r.requirement} ${r.verdict}: ${r.detail}`)];
  const out: TlsResult = { ...result, ok: reason === undefined, requirements: [...requirements], message: parts.filter(Boolean).join('; ') };
  if (reason === undefined) delete out.reason;
  else out.reason = reason;
  return out;
}

function summary(base: HandshakeRun, requirements: RequirementResult[], cert: TlsCertFacts | undefined): string {
  const parts: string[] = [];
  if (base.status === 'ok') parts.push(`default: ${base.facts.version} ${base.facts.cipher} ${base.facts.group} alpn ${base.facts.alpn}`);
  else parts.push(`default handshake ${base.status === 'failed' ? 'failed' : `untested (${base.reason})`}: ${base.detail}`);
  if (cert !== undefined && !cert.verified) parts.push(`certificate not verified: ${cert.authorizationError ?? 'unknown'}`);
  for (const r of requirements) if (r.verdict !== 'met') parts.push(`${r.requirement} ${r.verdict}: ${r.detail}`);
  return parts.join('; ');
}
