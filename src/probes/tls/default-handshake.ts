// The unconstrained handshake of the tls check under one trust: how it is offered (SNI,
// the trust's SecureContext, ALPN h2 and http/1.1), the chain facts it yields (cached
// per leaf), and the same handshake made by another check on the same path (the http
// check's), judged in its place (SharedDefaultHandshake).
import { rootCertificates } from 'node:tls';
import type { Target } from '../../model/types.js';
import { anchorsFromPems, certFacts } from './tls-certs.js';
import type { TlsCertFacts } from './tls-certs.js';
import { trustedContext } from './tls-client.js';
import type { HandshakeWitness, TrustOptions } from './tls-client.js';
import { factsWithoutWire, observe } from './handshake.js';
import type { HandshakePlan, HandshakeRun, ObservedHandshake } from './handshake.js';

/** How the unconstrained handshake is made and judged: the options the tls probe shares with SharedDefaultHandshake. */
export interface DefaultHandshakeOptions extends TrustOptions {
  /** SNI and name to verify; default target.host. An IP literal is verified but not sent as SNI. */
  servername?: string;
  /** Issuer O/CN substrings the host's chain is known to come from (interception check). */
  expectedIssuers?: readonly string[];
  /** Deadline of one handshake, dial included. Default 5000 ms. The probe's signal always wins. */
  handshakeTimeoutMs?: number;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;
/** ALPN of the unconstrained handshake: what curl, browsers and undici offer. */
const DEFAULT_ALPN = ['h2', 'http/1.1'];

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

/** The unconstrained handshake under one trust: how it is offered, and the chain facts it yields (cached per leaf). */
export class DefaultHandshake {
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

export function defaultHandshakeFor(target: Target, options: DefaultHandshakeOptions, nowMs: number): DefaultHandshake {
  return new DefaultHandshake(options.servername ?? target.host, options.systemRoots ?? rootCertificates, options.ca ?? [], options.expectedIssuers, options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, nowMs);
}

/**
 * The default handshake of another check on the same path (the http check's: round.ts),
 * judged by the tls check instead of one more handshake of its own: one handshake a
 * round where there were two, and the same facts, since it is offered exactly as the
 * tls check's own (the same trust, SNI and ALPN offer; no session). It stands in only
 * when it succeeded within the tls check's handshake deadline; otherwise the tls check
 * makes its own, so its verdicts and reasons are what they were.
 *
 * The http check connects natively (no WireTap: its bytes never cross JavaScript), so
 * what Node does not report is not there to read. A TLS 1.3 handshake loses nothing (EMS
 * does not apply, and the group comes from getEphemeralKeyInfo()); a TLS 1.2 one would
 * lose EMS and the server's signature scheme, so it is declined (factsWithoutWire) and
 * the tls check makes its own, observed handshake: one handshake more a round, for TLS
 * 1.2 hosts only, and verdicts exactly as before.
 */
export class SharedDefaultHandshake {
  private seen: Extract<HandshakeRun, { status: 'ok' }> | undefined;
  private readonly base: DefaultHandshake;

  constructor(target: Target, options: DefaultHandshakeOptions) {
    this.base = defaultHandshakeFor(target, options, Date.now());
  }

  /** For HttpProbeOptions.onHandshake. */
  readonly witness: HandshakeWitness = (connected, offer) => {
    const same = offer.servername === this.base.servername && offer.secureContext === this.base.plan.context && offer.alpn?.join() === DEFAULT_ALPN.join();
    if (!same || offer.durationSeconds * 1000 > this.base.timeoutMs) return;
    try {
      // Not every fact readable (a native TLS 1.2 handshake): nothing is seen.
      if (factsWithoutWire(connected)) this.seen = { status: 'ok', facts: observe(connected, this.base.plan.needsChain), durationSeconds: offer.durationSeconds };
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
