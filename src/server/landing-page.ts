// A plain HTML page: links to the endpoints and the latest state of every check.
// Readable without JavaScript.
import type { Target } from '../probes/types.js';
import type { StoredResult } from '../scheduler/results.js';

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export interface LandingPageData {
  version: string;
  targets: readonly Target[];
  results: readonly StoredResult[];
  ready: boolean;
}

export function renderLandingPage(data: LandingPageData): string {
  const rows = data.targets
    .map((target) => {
      const cells = data.results
        .filter((r) => r.host === target.host)
        .map((r) => {
          const state = r.outcome.ok ? 'ok' : `failed: ${r.outcome.reason ?? 'unknown'}`;
          const age = Math.max(0, Math.round((Date.now() - r.atMs) / 1000));
          return `<li class="${r.outcome.ok ? 'ok' : 'fail'}">${escape(r.check)} via ${escape(r.path)}: ${escape(state)} <small>(${age}s ago)</small></li>`;
        })
        .join('');
      return `<tr><td><code>${escape(target.host)}:${target.port}</code><br><small>${escape(target.purpose)}</small></td><td><ul>${cells || '<li>pending</li>'}</ul></td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>egress-exporter</title>
<style>body{font-family:sans-serif;margin:2em}td{vertical-align:top;padding:.3em 1em;border-bottom:1px solid #ddd}ul{margin:0;padding-left:1em}.ok{color:#1a7f37}.fail{color:#b42318}</style>
</head><body>
<h1>egress-exporter</h1>
<p>Version ${escape(data.version)}. ${data.ready ? 'Ready.' : 'Not ready: the first round of checks is still running.'}</p>
<ul><li><a href="/metrics">Metrics</a></li><li><a href="/-/healthy">Health</a></li><li><a href="/-/ready">Readiness</a></li></ul>
<h2>Targets</h2>
<table><thead><tr><th>Host</th><th>Latest checks</th></tr></thead><tbody>
${rows}
</tbody></table>
</body></html>
`;
}
