// The status page at `/`: links to the endpoints, then a host x check matrix
// with the latest result of every path, its reason and age, and a link to a
// debug transcript. Plain HTML and CSS: readable without JavaScript.
import { isIP } from 'node:net';
import { hostPort } from '../host-port.js';
import { counted } from '../plural.js';
import { CHECK_NAMES } from '../model/types.js';
import type { CheckName, Target } from '../model/types.js';
import { dnsFindings } from '../checks/dns-judgement.js';
import { checkResults } from '../checks/path-checks.js';
import { whereName } from '../checks/report.js';
import type { CheckResult } from '../checks/report.js';
import type { TargetState } from '../state/result-store.js';

/** The matrix's columns: every check, the registry pull last. */
const COLUMNS: readonly CheckName[] = [...CHECK_NAMES, 'registry'];
const configured = (target: Target, check: CheckName): boolean => (check === 'registry' ? target.registry !== undefined : target.checks.includes(check));

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export interface LandingPageData {
  version: string;
  /** Every target with its latest judged round. */
  states: readonly TargetState[];
  ready: boolean;
  nowMs?: number;
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

function cell(results: readonly CheckResult[], atMs: number, configured: boolean, now: number, lookup = true, reported = false, findings: readonly string[] = []): string {
  if (!configured) return '<td class="none" title="not one of this target\'s checks">not checked</td>';
  // An IP literal is never looked up: its dns column would wait forever.
  if (!lookup) return '<td class="none" title="an IP address needs no lookup">no lookup (IP)</td>';
  if (results.length === 0) return reported ? '<td class="none" title="the latest round did not run it">not run</td>' : '<td class="none">pending</td>';
  const items = results.map((r) => {
    const ok = r.outcome.ok;
    const state = ok ? '<span class="ok">&#10003; ok</span>' : `<span class="fail">&#10007; ${escape(r.outcome.reason ?? 'failed')}</span>`;
    // A failure's detail is shown; a success's only on hover, to keep the matrix short.
    const title = ok && r.outcome.message ? ` title="${escape(r.outcome.message)}"` : '';
    const detail = !ok && r.outcome.message ? `<div class="detail">${escape(r.outcome.message)}</div>` : '';
    return `<div class="result"${title}>${state} <span class="path">${escape(whereName(r.where))}</span> <span class="age">${age(now - atMs)}</span>${detail}</div>`;
  });
  // What the results mean over rounds (dns: TTL drift, the firewall refresh, the allowlist).
  const notes = findings.map((f) => `<div class="detail finding">${escape(f)}</div>`).join('');
  const worst = results.some((r) => !r.outcome.ok) ? 'fail' : 'ok';
  return `<td class="${worst}">${items.join('')}${notes}</td>`;
}

export function renderLandingPage(data: LandingPageData): string {
  const now = data.nowMs ?? Date.now();
  const results = data.states.map((state) => (state.report ? checkResults(state.report) : []));
  const failing = results.flat().filter((r) => !r.outcome.ok).length;
  const rows = data.states
    .map(({ target, report }, i) => {
      const mine = results[i] ?? [];
      const atMs = report?.finishedAtMs ?? now;
      const lookup = isIP(target.host) === 0;
      const findings = (report?.dnsJudgements ?? []).flatMap((j) => dnsFindings(j).map((f) => `${j.resolver}: ${f}`));
      const cells = COLUMNS.map((check) =>
        cell(mine.filter((r) => r.check === check), atMs, configured(target, check), now, check !== 'dns' || lookup, report !== undefined, check === 'dns' ? findings : []),
      ).join('');
      const debug = `/probe?target=${encodeURIComponent(target.host)}&amp;debug=true`;
      return `<tr><th scope="row"><code>${escape(hostPort(target.host, target.port))}</code>${target.purpose ? `<div class="purpose">${escape(target.purpose)}</div>` : ''}</th>${cells}<td><a href="${debug}">debug</a></td></tr>`;
    })
    .join('\n');
  const summary = data.states.length === 0
    ? 'No targets: the config and its catalog list nothing to check.'
    : data.ready
    ? `${counted(data.states.length, 'target')}; ${failing === 0 ? 'every check passes' : `${counted(failing, 'check')} failing`}.`
    : 'Not ready: the first round of checks is still running.';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>egress-exporter</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#1f2328}
table{border-collapse:collapse;width:100%}
th,td{vertical-align:top;padding:.35em .6em;border-bottom:1px solid #d0d7de;text-align:left}
thead th{background:#f6f8fa}
td.ok{background:#f0fff4}td.fail{background:#fff5f5}td.none{color:#6e7781}
.ok{color:#1a7f37}.fail{color:#b42318}.path,.age,.purpose,.detail{color:#57606a;font-size:.85em}
.result+.result{margin-top:.3em}.detail{overflow-wrap:anywhere}.result>span{white-space:nowrap}
.matrix{overflow-x:auto}
td.none{white-space:nowrap;font-size:.9em}
#summary .failing{color:#b42318;font-weight:600}#summary .passing{color:#1a7f37;font-weight:600}#summary .version{color:#57606a}
nav a{margin-right:1em}
</style>
</head><body>
<h1>egress-exporter</h1>
<nav><a href="/metrics">Metrics</a><a href="/-/healthy">Health</a><a href="/-/ready">Readiness</a></nav>
<p id="summary"><span class="${!data.ready ? 'pending' : failing > 0 ? 'failing' : 'passing'}">${escape(summary)}</span> <span class="version">Version ${escape(data.version)}.</span></p>
<div class="matrix"><table><thead><tr><th scope="col">Host</th>${COLUMNS.map((c) => `<th scope="col">${c}</th>`).join('')}<th scope="col">Transcript</th></tr></thead><tbody>
${rows}
</tbody></table></div>
<p class="age">Each check's latest result, its path (resolver or proxy) and its age; a failure shows its detail, a success on hover. A scrape of /metrics reads the same results; reload the page for newer ones.</p>
</body></html>
`;
}
