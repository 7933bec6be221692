// The tls check on a path, and when the target's requirement handshakes (its
// catalog's, or the config's) are due. The default
// handshake runs every round (the http check's, when it offered one); the requirement
// handshakes only when due: every tls.requirements_interval in the target's slot, when
// the last run left one untested, and at once when the default handshake's facts
// (version, cipher, group, ALPN, issuer) moved since they were judged. In between, the
// verdicts carry over onto the default handshake.
import { issuerIdentity } from '../probes/tls/tls-certs.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, withRequirements } from '../probes/tls/tls.js';
import type { TlsProbeOptions, TlsRequirement, TlsResult } from '../probes/tls/tls.js';
import type { Dial } from '../probes/types.js';
import { hostPhase, slotAfterMs } from '../async/slots.js';
import type { Plan } from './dial-plan.js';
import type { PathCheck, PathRun } from './path-run.js';
import { targetKey } from './report.js';

/** How the tls check (and the handshake the http check offers it) connects and judges. */
export function tlsOptions(p: PathRun, dial: Dial): TlsProbeOptions {
  const { ctx, target } = p;
  const options: TlsProbeOptions = { dial, ca: ctx.trust.caPem, systemRoots: ctx.trust.publicRoots, handshakeTimeoutMs: Math.min(DEFAULT_HANDSHAKE_TIMEOUT_MS, ctx.config.timeoutMs) };
  if (target.expectedIssuers !== undefined && target.expectedIssuers.length > 0) options.expectedIssuers = target.expectedIssuers;
  if (target.serverName !== undefined) options.servername = target.serverName;
  return options;
}

/** What the requirement verdicts were judged against; undefined without a default handshake. */
function handshakeBasis(result: TlsResult): string | undefined {
  const hs = result.handshake;
  if (hs === undefined) return undefined;
  const issuer = result.certificate ? issuerIdentity(result.certificate) : '';
  return [hs.version, hs.cipher, hs.group, hs.alpn, issuer].join('|');
}

/** The plan of the tls check: the path's, unless a TLS-inspecting proxy answered the http check for the host itself. */
function tlsPlan(p: PathRun): Plan {
  const http = p.entry.http;
  if (http?.answeredByProxy === true && !http.ok && http.reason !== undefined) {
    const why = http.message ?? http.reason;
    return { skip: { ok: false, reason: http.reason, message: `not tried: the proxy answered for the host itself (${why}); the TLS it offers on this path is its own`, durationSeconds: 0 } };
  }
  return p.plan;
}

export const tlsCheck: PathCheck<'tls'> = {
  name: 'tls',
  wanted: (target) => target.checks.includes('tls'),
  run: async (p) => {
    const { ctx, entry, previous } = p;
    const plan = tlsPlan(p);
    const run = (requirements: readonly TlsRequirement[] | undefined) =>
      p.run<TlsResult>(
        'tls',
        (signal) => {
          if (!('dial' in plan)) return Promise.resolve({ ...plan.skip, requirements: [] });
          const options = tlsOptions(p, plan.dial);
          if (requirements !== undefined) options.requirements = requirements;
          if (p.shared !== undefined) options.shared = p.shared;
          return ctx.probes.tls(p.target, options, signal);
        },
        (reason, message, durationSeconds) => ({ ok: false, reason, message, durationSeconds, requirements: [] }),
      );
    const carried = previous?.tls?.requirements ?? [];
    const due =
      previous?.requirementsAtMs === undefined ||
      carried.length === 0 ||
      carried.some((r) => r.verdict === 'untested') ||
      // In the target's slot of the interval: every first round runs them within seconds of
      // the others, and they would all come due again together.
      ctx.now() >= slotAfterMs(previous.requirementsAtMs, ctx.config.tls.requirementsIntervalMs, hostPhase(targetKey(p.target)));
    if (!due) {
      const quick = await run([]);
      if (quick === undefined) return undefined;
      const basis = handshakeBasis(quick);
      if (basis === undefined || basis === previous.requirementsBasis) {
        // Same handshake as when judged (or none at all: nothing to carry onto).
        if (basis !== undefined) {
          entry.requirementsAtMs = previous.requirementsAtMs;
          entry.requirementsBasis = basis;
        }
        return basis === undefined ? quick : withRequirements(quick, carried);
      }
    }
    const full = await run(p.target.tlsRequirements);
    if (full === undefined) return undefined;
    const basis = handshakeBasis(full);
    if (basis !== undefined && full.requirements.length > 0) {
      entry.requirementsAtMs = ctx.now();
      entry.requirementsBasis = basis;
    }
    return full;
  },
};
