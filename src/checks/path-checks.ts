// The checks that run over a path, in the order they run: adding one is a file of its
// own (a PathCheck) and its entry here, with its result in report.ts's PathResults.
//
// One after the other, not side by side: a server or proxy that serves few
// connections at once (openssl s_server -www serves one) must not see one check
// starve another's handshakes of their deadlines. tcp first (it decides the path's dial
// plan), then http: when a TLS-inspecting proxy answers for the host itself (its error
// page inside the bumped tunnel), the tls check has nothing of the host's to judge and is
// not left to time out against a slow proxy; and the tls check judges the http check's
// handshake as its default one. The registry pull last.
import { httpCheck } from './http-check.js';
import type { PathCheck } from './path-run.js';
import { registryCheck } from './registry-check.js';
import type { CheckResult, PathCheckName, RoundReport } from './report.js';
import { tcpCheck } from './tcp-check.js';
import { tlsCheck } from './tls-check.js';

type AnyPathCheck = { [K in PathCheckName]: PathCheck<K> }[PathCheckName];

export const PATH_CHECKS: readonly AnyPathCheck[] = [tcpCheck, httpCheck, tlsCheck, registryCheck];

/** Every check result of a round that the target asked for: dns per resolver, then each path's in the order they ran. */
export function checkResults(report: RoundReport): CheckResult[] {
  const out: CheckResult[] = [];
  if (report.target.checks.includes('dns')) for (const dns of report.dns) out.push({ check: 'dns', where: { resolver: dns.resolver }, outcome: dns });
  for (const entry of report.paths) {
    for (const { name } of PATH_CHECKS) {
      const outcome = entry[name];
      if (outcome !== undefined) out.push({ check: name, where: { path: entry.path.name }, outcome });
    }
  }
  return out;
}
