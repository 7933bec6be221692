// A readable account of one round, for /probe?debug=true: every step with its
// timing, the DNS answers, each TLS requirement's handshake, the proxy's
// answers and the HTTP response head. Plain text; never a password.
import { hostPort } from '../host-port.js';
import { redactProxyUrl } from '../probes/net/proxy.js';
import { dnsJudgementLine, dnsJudgementOf } from '../checks/dns-judgement.js';
import { registryTranscriptLines } from './registry-transcript.js';
import type { ProbeOutcome } from '../probes/types.js';
import type { PathReport, RoundReport } from '../checks/report.js';

const msText = (seconds: number | undefined): string => (seconds === undefined ? '-' : `${(seconds * 1000).toFixed(1)} ms`);
const date = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString();

function outcome(result: ProbeOutcome): string {
  return result.ok ? `ok in ${msText(result.durationSeconds)}` : `FAILED (${result.reason ?? 'unknown'}) in ${msText(result.durationSeconds)}`;
}

function pathSection(entry: PathReport, lines: string[]): void {
  const { path } = entry;
  lines.push('', `PATH ${path.name}: ${path.proxy === null ? 'straight to the host' : `through proxy ${redactProxyUrl(path.proxy.url)}`}`);
  const blocked = entry.blocked;
  if (blocked !== undefined) lines.push(`  must stay blocked: ${blocked.verdict === 'blocked' ? 'it does' : blocked.verdict === 'reachable' ? 'IT GOT OUT' : 'COULD NOT TELL'} - ${blocked.detail}`);
  if (entry.tcp) {
    lines.push(`  tcp: ${outcome(entry.tcp)}${entry.tcp.message ? ` - ${entry.tcp.message}` : ''}`);
    for (const family of entry.tcp.families) {
      for (const a of family.attempts) {
        lines.push(`    ${family.family} ${a.address.padEnd(39)} ${a.ok ? 'connected' : `FAILED ${a.reason ?? ''}`} in ${msText(a.connectSeconds)}`);
      }
    }
    if (entry.tcp.proxyConnectSeconds !== undefined) lines.push(`    CONNECT answered 200 in ${msText(entry.tcp.proxyConnectSeconds)}`);
  }
  if (entry.tls) {
    const tls = entry.tls;
    lines.push(`  tls: ${outcome(tls)}${tls.message ? ` - ${tls.message}` : ''}`);
    const h = tls.handshake;
    if (h) lines.push(`    default client gets: ${h.version} ${h.cipher} group ${h.group}, ALPN ${h.alpn}, EMS ${h.ems === null ? 'n/a' : h.ems ? 'yes' : 'no'}, handshake ${msText(h.handshakeSeconds)}${h.madeBy === 'http' ? " (the http check's)" : ''}`);
    const c = tls.certificate;
    if (c) {
      lines.push(`    certificate: CN=${c.subjectCN}, issued by CN=${c.issuerCN} O=${c.issuerO}, chain of ${c.chainLength}`);
      lines.push(`      expires ${date(c.leafNotAfter)} (chain's earliest ${date(c.earliestNotAfter)})`);
      lines.push(
        `      verified: ${c.verified ? 'yes' : `no (${c.authorizationError ?? 'unknown'})`}, trust: ${c.trust}, intercepted: ${entry.intercepted === true ? 'YES' : 'no'}`,
      );
    }
    for (const r of tls.requirements) {
      const verdict = r.verdict === 'met' ? 'met' : r.verdict === 'not_met' ? 'NOT MET' : `untested (${r.reason ?? 'unknown'})`;
      lines.push(`    requirement ${r.requirement.padEnd(38)} ${verdict.padEnd(22)} ${r.detail} [${msText(r.durationSeconds)}]`);
    }
  }
  if (entry.http) {
    const http = entry.http;
    lines.push(`  http: ${outcome(http)}${http.message ? ` - ${http.message}` : ''}`);
    const phases = Object.entries(http.phases as Record<string, number | undefined>).map(([phase, seconds]) => `${phase} ${msText(seconds)}`);
    lines.push(`    protocol: ${http.protocol === undefined ? 'none' : `HTTP/${http.protocol}`} (ALPN ${http.alpn})${entry.downgraded ? ', DOWNGRADED from h2' : ''}`);
    if (phases.length > 0) lines.push(`    phases: ${phases.join(', ')}`);
    if (http.status !== undefined) {
      lines.push(`    response head: HTTP/${http.protocol ?? '?'} ${http.status} (${http.valid ? 'the expected answer' : 'NOT the expected answer'})`);
      for (const [name, value] of Object.entries(http.headers ?? {})) lines.push(`      ${name}: ${value}`);
    }
  }
}

export function renderTranscript(report: RoundReport): string {
  const { target } = report;
  const lines = [
    `egress-exporter probe of ${hostPort(target.host, target.port)} at ${new Date(report.startedAtMs).toISOString()} (took ${msText(report.durationSeconds)})`,
    `checks: ${target.checks.join(', ')}; families: ${target.families.join(', ')}; paths: ${report.paths.map((p) => p.path.name).join(', ')}`,
  ];
  if (target.purpose) lines.push(`purpose: ${target.purpose}`);
  if (report.dns.length > 0) lines.push('', 'DNS');
  for (const dns of report.dns) {
    lines.push(`  resolver ${dns.resolver}: ${outcome(dns)}`);
    for (const r of dns.records) {
      const answer = r.ok ? `ttl ${r.ttl ?? '-'}  ${r.addresses.join(', ')}` : `FAILED ${r.reason ?? ''}${r.addresses.length > 0 ? ` (answered ${r.addresses.join(', ')})` : ''}${r.message ? ` - ${r.message}` : ''}`;
      lines.push(`    ${r.type.padEnd(4)} ${answer} [${msText(r.durationSeconds)}]`);
      const judged = dnsJudgementOf(report, dns.resolver, r.type);
      if (judged !== undefined) lines.push(`         judged: ${dnsJudgementLine(judged)}`);
    }
    if (dns.cnameChain.length > 0) lines.push(`    CNAME chain: ${[target.host, ...dns.cnameChain].join(' -> ')}`);
  }
  for (const entry of report.paths) pathSection(entry, lines);
  const pulls = report.paths.filter((entry) => entry.registry !== undefined);
  if (pulls.length > 0) lines.push('', 'Registry pull');
  for (const entry of pulls) if (entry.registry) lines.push(...registryTranscriptLines(entry.registry, entry.path.name));
  return `${lines.join('\n')}\n`;
}
