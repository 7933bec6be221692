// What /probe?target= may probe: a configured target, or, only with
// web.allow_any_target, any host:port (blackbox_exporter's /probe is an SSRF
// hole; this one is closed by default).
import { normaliseHost, splitHostPort } from '../host-port.js';
import { CHECK_NAMES } from '../model/types.js';
import type { TlsRequirement } from '../model/tls-requirements.js';
import type { Target } from '../model/types.js';

export type TargetLookup = { ok: true; target: Target } | { ok: false; status: 400; message: string };

/** `host`, `host:port` or `[v6]:port`; without a port, any configured port matches (443 for a host outside the config). */
export function lookupProbeTarget(query: unknown, targets: readonly Target[], allowAny: boolean, tlsRequirements: readonly TlsRequirement[] = []): TargetLookup {
  if (typeof query !== 'string' || query === '') return { ok: false, status: 400, message: 'missing ?target=HOST (a configured target)' };
  const wanted = splitHostPort(query);
  const host = wanted === null ? null : normaliseHost(wanted.host);
  if (wanted === null || host === null) return { ok: false, status: 400, message: `target ${JSON.stringify(query)} is not a host or host:port` };
  const found = targets.find((t) => t.host === host && (wanted.port === undefined || t.port === wanted.port));
  if (found) return { ok: true, target: found };
  if (!allowAny) {
    return {
      ok: false,
      status: 400,
      message: `target ${JSON.stringify(query)} is not configured; probing hosts outside the config needs web.allow_any_target: true`,
    };
  }
  return {
    ok: true,
    // A host of nobody's catalog: judged on the config's requirements for its own targets.
    target: { host, port: wanted.port ?? 443, families: ['v4'], checks: [...CHECK_NAMES], labels: {}, purpose: '', source: 'probe', tlsRequirements },
  };
}
