// The TLS check: one unconstrained handshake that records what a default client
// gets (version, cipher, group, ALPN, time, certificate chain), and one fresh
// handshake per requirement with the client constrained to exactly that requirement
// (tls-requirements.ts).
//
// Verdicts. A requirement is judged only when its handshake
//   - succeeds (then what it negotiated is checked against the requirement),
//   - ends in a TLS alert from the peer, or
//   - ends in a local "no cipher / no protocol / server picked what we did not offer"
//     error, or
//   - is closed without a TLS alert twice in a row (tried once more to be sure), while
//     the unconstrained handshake on the same path succeeded: the path refuses that offer
//     (a TLS-terminating proxy with an RSA certificate closes an ECDSA-only ClientHello
//     that way). Not met, with "closed without a TLS alert, twice" in the detail.
// Everything else means the path could not be tested and the requirement is
// 'untested' with the reason: a timeout or stall, a reset or a close without an alert
// (when the unconstrained handshake failed too, or the second try went otherwise),
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
import type { Target } from '../../model/types.js';
import { secondsSince } from '../../async/clock.js';
import { errorMessage } from '../errors.js';
import type { Dial } from '../types.js';
import { defaultHandshakeFor } from './default-handshake.js';
import type { DefaultHandshakeOptions, SharedDefaultHandshake } from './default-handshake.js';
import { runHandshake } from './handshake.js';
import type { Connection, HandshakePlan, HandshakeRun } from './handshake.js';
import type { TlsCertFacts } from './tls-certs.js';
import { PREPARED_HANDSHAKES, REQUIREMENT_SPECS, TLS_REQUIREMENTS } from './tls-requirements.js';
import type { RequirementSpec, TlsRequirement } from './tls-requirements.js';
import type { TlsHandshakeFacts, TlsResult } from './tls-result.js';
import { combine, judgePart, overallReason, summary } from './tls-verdicts.js';

export { TLS_REQUIREMENTS, REQUIREMENT_SPECS };
export type { TlsRequirement, TlsCertFacts };
export type { RequirementResult, TlsHandshakeFacts, TlsResult, TlsVerdict } from './tls-result.js';
export { DEFAULT_HANDSHAKE_TIMEOUT_MS, SharedDefaultHandshake } from './default-handshake.js';
export { withRequirements } from './tls-verdicts.js';

export interface TlsProbeOptions extends DefaultHandshakeOptions {
  /** Opens the byte stream (TCP, or a proxy tunnel); called once per handshake. */
  dial: Dial;
  /** Handshakes in flight at once for this target. Default 3. */
  concurrency?: number;
  /** Which requirements to check. Default: all of TLS_REQUIREMENTS. */
  requirements?: readonly TlsRequirement[];
  /** A default handshake another check made on this path (SharedDefaultHandshake): judged instead of making one, when it was made as this probe's own would be. */
  shared?: SharedDefaultHandshake;
}

export const DEFAULT_CONCURRENCY = 3;

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

/** A constrained offer answered with a close, not an alert: what a TLS-terminating proxy does when it has nothing to offer (mitmproxy with its RSA CA, to an ECDSA-only client). */
const REFUSED_BY_CLOSE: ReadonlySet<string> = new Set(['reset', 'proxy_closed']);

/**
 * A constrained handshake closed without a TLS alert, on a path where the unconstrained
 * handshake just worked, is tried once more; closed the same way again, the path refuses
 * that offer: a verdict (not met), not a failure to test. A path that itself fails keeps
 * its "untested" (the caller only asks when the unconstrained handshake succeeded).
 */
async function confirmRefusals(runs: HandshakeRun[], tasks: readonly (() => Promise<HandshakeRun>)[], concurrency: number): Promise<void> {
  const closed = runs.flatMap((run, id) => (id > 0 && run.status === 'untested' && REFUSED_BY_CLOSE.has(run.reason) ? [id] : []));
  if (closed.length === 0) return;
  const again = await limited(
    closed.map((id) => tasks[id]!),
    concurrency,
  );
  closed.forEach((id, i) => {
    const first = runs[id]!;
    const second = again[i]!;
    if (second.status === 'untested' && REFUSED_BY_CLOSE.has(second.reason)) {
      const detail = `closed without a TLS alert, twice (${second.detail}), where the unconstrained handshake succeeded: the path refuses this offer`;
      runs[id] = { status: 'failed', detail, durationSeconds: first.durationSeconds + second.durationSeconds };
    } else {
      runs[id] = second;
    }
  });
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
  if (first.status === 'ok') await confirmRefusals(runs, tasks, options.concurrency ?? DEFAULT_CONCURRENCY);

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
