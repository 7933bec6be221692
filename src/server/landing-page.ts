// The status page at `/`: links to the endpoints, then a host x check matrix
// with the latest result of every path, its reason and age, what the results mean
// over rounds (DNS findings, the certificate's expiry, issuer and trust), and a link to
// a debug transcript. Plain HTML and CSS: readable without JavaScript.
import { isIP } from 'node:net';
import { hostPort } from '../host-port.js';
import { counted } from '../plural.js';
import { CHECK_NAMES } from '../model/types.js';
import type { CheckName, Target } from '../model/types.js';
import { dnsFindings } from '../checks/dns-judgement.js';
import { checkResults } from '../checks/path-checks.js';
import { whereName } from '../checks/report.js';
import type { CheckResult, RoundReport } from '../checks/report.js';
import { certWords, EXPIRY_WARNING_DAYS } from '../cert-words.js';
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

/** A line under a cell's results: what they mean (a DNS finding, the certificate); `warn` flags it. */
interface Note {
  text: string;
  warn?: boolean;
}

/** The certificate each path's tls check saw, in words; flagged when it expires within EXPIRY_WARNING_DAYS. */
function certNotes(report: RoundReport | undefined, now: number): Note[] {
  return (report?.paths ?? []).flatMap((entry) => {
    const cert = entry.tls?.certificate;
    if (cert === undefined) return [];
    const w = certWords(cert, now);
    const verified = cert.verified ? `verified (${w.trust === 'ca_file' ? 'tls.ca_file' : `${w.trust} roots`})` : `not verified: ${cert.authorizationError ?? 'unknown'}`;
    return [{ text: `${entry.path.name}: certificate ${w.expiry}; issuer ${w.issuer}; ${verified}`, warn: w.soon }];
  });
}

/** A result on a path that must stay blocked: its failure is what keeps the host out (the row says whether it held). */
function onBlockedPath(r: CheckResult, report: RoundReport | undefined): boolean {
  const where = r.where;
  return 'path' in where && report?.paths.some((p) => p.path.name === where.path && p.blocked !== undefined) === true;
}

/**
 * A result that failed but is not a failure: a lookup the target's clients do not make
 * themselves (a proxy resolves for them), or a check of a path that must stay blocked.
 */
const isFact = (r: CheckResult, report: RoundReport | undefined): boolean => !r.outcome.ok && ((r.check === 'dns' && report?.dnsRequired === false) || onBlockedPath(r, report));

function cell(results: readonly CheckResult[], atMs: number, configured: boolean, now: number, lookup = true, report?: RoundReport, notes: readonly Note[] = []): string {
  if (!configured) return '<td class="none" title="not one of this target\'s checks">not checked</td>';
  // An IP literal is never looked up: its dns column would wait forever.
  if (!lookup) return '<td class="none" title="an IP address needs no lookup">no lookup (IP)</td>';
  if (results.length === 0) return report !== undefined ? '<td class="none" title="the latest round did not run it">not run</td>' : '<td class="none">pending</td>';
  const items = results.map((r) => {
    const ok = r.outcome.ok;
    const fact = isFact(r, report);
    const state = ok
      ? '<span class="ok">&#10003; ok</span>'
      : fact
        ? `<span class="fact">&#8505; ${escape(r.outcome.reason ?? 'failed')}</span>`
        : `<span class="fail">&#10007; ${escape(r.outcome.reason ?? 'failed')}</span>`;
    // A failure's detail is shown; a success's only on hover, to keep the matrix short.
    const title = ok && r.outcome.message ? ` title="${escape(r.outcome.message)}"` : '';
    const because = !fact ? '' : onBlockedPath(r, report) ? 'this path must stay blocked: the failure keeps the host out' : "not required: this target's clients reach it through a proxy that resolves the name";
    const detail = !ok ? `<div class="detail">${escape([r.outcome.message ?? '', because].filter(Boolean).join('; '))}</div>` : '';
    return `<div class="result"${title}>${state} <span class="path">${escape(whereName(r.where))}</span> <span class="age">${age(now - atMs)}</span>${detail}</div>`;
  });
  // What the results mean over rounds (dns: TTL drift, the firewall refresh, the allowlist; tls: the certificate).
  const lines = notes.map((n) => `<div class="detail finding${n.warn === true ? ' warn' : ''}">${escape(n.text)}</div>`).join('');
  const worst = results.some((r) => !r.outcome.ok && !isFact(r, report)) ? 'fail' : results.every((r) => r.outcome.ok) ? 'ok' : 'fact';
  return `<td class="${worst}">${items.join('')}${lines}</td>`;
}

export function renderLandingPage(data: LandingPageData): string {
  const now = data.nowMs ?? Date.now();
  const results = data.states.map((state) => (state.report ? checkResults(state.report) : []));
  const failing = results.flatMap((mine, i) => mine.filter((r) => !r.outcome.ok && !isFact(r, data.states[i]?.report))).length;
  const holes = data.states.flatMap((state) => (state.report?.paths ?? []).filter((p) => p.blocked?.verdict === 'reachable')).length;
  const rows = data.states
    .map(({ target, report }, i) => {
      const mine = results[i] ?? [];
      const atMs = report?.finishedAtMs ?? now;
      const lookup = isIP(target.host) === 0;
      const notesOf: Partial<Record<CheckName, Note[]>> = {
        dns: (report?.dnsJudgements ?? []).flatMap((j) => dnsFindings(j).map((f) => ({ text: `${j.resolver}: ${f}` }))),
        tls: certNotes(report, now),
      };
      const cells = COLUMNS.map((check) => cell(mine.filter((r) => r.check === check), atMs, configured(target, check), now, check !== 'dns' || lookup, report, notesOf[check])).join('');
      const expectations = (report?.paths ?? []).flatMap(({ path, blocked }) => {
        if (blocked === undefined) return [];
        const verdict = blocked.verdict === 'blocked' ? '<span class="ok">&#10003; blocked</span>' : blocked.verdict === 'reachable' ? '<span class="fail">&#10007; REACHABLE</span>' : '<span class="fail">? could not tell</span>';
        return [`<div class="detail">must stay blocked on ${escape(path.name)}: ${verdict} ${escape(blocked.detail)}</div>`];
      });
      // The target's own port: a host on two ports has two transcripts.
      const debug = `/probe?target=${encodeURIComponent(hostPort(target.host, target.port)).replace(/%3A/g, ':')}&amp;debug=true`;
      return `<tr><th scope="row"><code>${escape(hostPort(target.host, target.port))}</code>${target.purpose ? `<div class="purpose">${escape(target.purpose)}</div>` : ''}${expectations.join('')}</th>${cells}<td><a href="${debug}">debug</a></td></tr>`;
    })
    .join('\n');
  const summary = data.states.length === 0
    ? 'No targets: the config and its catalog list nothing to check.'
    : data.ready
    ? `${counted(data.states.length, 'target')}; ${failing === 0 ? 'every check passes' : `${counted(failing, 'check')} failing`}${holes === 0 ? '' : `; ${counted(holes, 'path')} that must stay blocked got out`}.`
    : 'Not ready: the first round of checks is still running.';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>egress-exporter</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#1f2328}
table{border-collapse:collapse;width:100%}
th,td{vertical-align:top;padding:.35em .6em;border-bottom:1px solid #d0d7de;text-align:left}
thead th{background:#f6f8fa}
td.ok{background:#f0fff4}td.fail{background:#fff5f5}td.fact{background:#f6f8fa}td.none{color:#6e7781}
.ok{color:#1a7f37}.fail{color:#b42318}.fact{color:#57606a}.detail.warn{color:#9a6700;font-weight:600}.path,.age,.purpose,.detail{color:#57606a;font-size:.85em}
.result+.result{margin-top:.3em}.detail{overflow-wrap:anywhere}.result>span{white-space:nowrap}
.matrix{overflow-x:auto}
td.none{white-space:nowrap;font-size:.9em}
#summary .failing{color:#b42318;font-weight:600}#summary .passing{color:#1a7f37;font-weight:600}#summary .version{color:#57606a}
nav a{margin-right:1em}
</style>
</head><body>
<h1>egress-exporter</h1>
<nav><a href="/metrics">Metrics</a><a href="/-/healthy">Health</a><a href="/-/ready">Readiness</a></nav>
<p id="summary"><span class="${!data.ready ? 'pending' : failing + holes > 0 ? 'failing' : 'passing'}">${escape(summary)}</span> <span class="version">Version ${escape(data.version)}.</span></p>
<div class="matrix"><table><thead><tr><th scope="col">Host</th>${COLUMNS.map((c) => `<th scope="col">${c}</th>`).join('')}<th scope="col">Transcript</th></tr></thead><tbody>
${rows}
</tbody></table></div>
<p class="age">Each check's latest result, its path (resolver or proxy) and its age; a failure shows its detail, a success on hover; &#8505; marks a failed lookup the target's clients do not need (a proxy resolves for them). Under tls, each path's certificate: its expiry (flagged within ${EXPIRY_WARNING_DAYS} days), issuer and trust. A scrape of /metrics reads the same results; reload the page for newer ones.</p>
</body></html>
`;
}
