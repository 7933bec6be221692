// `egress-exporter check`: every check once, now, as a table of host x check.
// The fastest answer to "does my network meet the vendor's requirements?".
import { Writable } from 'node:stream';
import { secondsSince } from '../async/clock.js';
import { oneOf, parseCommandLine } from './flags.js';
import { ConfigError, defaultConfig, loadConfigFile } from '../config/load.js';
import { resolveTargets } from '../config/targets.js';
import type { Config } from '../config/types.js';
import { createLogger } from '../logging/logger.js';
import { TLS_REQUIREMENTS } from '../probes/tls/tls.js';
import type { TlsHandshakeFacts, TlsRequirement, TlsResult } from '../probes/tls/tls.js';
import { issuerLabel } from '../probes/tls/tls-certs.js';
import type { TlsCertFacts } from '../probes/tls/tls-certs.js';
import { certWords, EXPIRY_WARNING_DAYS } from '../cert-words.js';
import type { ProbeOutcome } from '../probes/types.js';
import { roundSignal } from '../async/round-signal.js';
import { roundContext } from '../checks/context.js';
import type { ProbeSet } from '../checks/context.js';
import { dnsFindings, dnsJudgementOf } from '../checks/dns-judgement.js';
import { judgeExpectations } from '../checks/expectation.js';
import { dnsSummary, roundOk } from '../checks/judge.js';
import { targetName } from '../checks/report.js';
import type { PathReport, RoundReport } from '../checks/report.js';
import { runRound } from '../checks/round.js';
import { readTrust } from '../config/trust.js';
import { normaliseHost, splitHostPort } from '../host-port.js';
import { agree, counted } from '../plural.js';
import type { Target } from '../model/types.js';
import { onDemandRunner } from '../scheduler/check-runner.js';

export const CHECK_USAGE = `usage: egress-exporter check [--config.file=PATH] [--output=table|json] [--host=HOST[:PORT] ...]

Runs every check of every target once, now, and prints the verdicts. --host picks
targets: HOST takes each of its ports, HOST:PORT (or [v6]:PORT) that one.
Exit status: 0 when everything is met, 1 when something is not, 2 for a usage or config error.
`;

const OUTPUTS = ['table', 'json'] as const;
type Output = (typeof OUTPUTS)[number];

/** Short column names for the TLS requirements, in TLS_REQUIREMENTS order. */
const REQUIREMENT_COLUMNS: Record<TlsRequirement, string> = {
  tls13_aes_256_gcm_sha384: 'tls13',
  tls12_ecdhe_ecdsa_aes_256_gcm_sha384: 'tls12',
  extended_master_secret: 'ems',
  group_p256: 'p256',
  sig_ecdsa_secp256r1_sha256: 'ecdsa',
  sig_rsa_pss_rsae_sha256: 'rsa-pss',
  alpn_h2: 'h2',
  baseline: 'baseline',
};

export interface Style {
  ok: (text: string) => string;
  bad: (text: string) => string;
  dim: (text: string) => string;
  pass: string;
  fail: string;
  untested: string;
}

export const PLAIN: Style = { ok: (t) => t, bad: (t) => t, dim: (t) => t, pass: 'ok', fail: 'FAIL', untested: 'untested' };
export const TTY: Style = {
  ok: (t) => `\x1b[32m${t}\x1b[0m`,
  bad: (t) => `\x1b[31m${t}\x1b[0m`,
  dim: (t) => `\x1b[2m${t}\x1b[0m`,
  pass: '✓',
  fail: '✗',
  untested: '?',
};
/** A terminal with NO_COLOR set: the symbols, without colour. */
export const TTY_NO_COLOR: Style = { ...PLAIN, pass: TTY.pass, fail: TTY.fail, untested: TTY.untested };

/**
 * How to print on `out`: symbols and colour on a terminal, without colour when
 * NO_COLOR is set to anything but the empty string (no-color.org), plain words elsewhere.
 */
export function styleFor(out: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Style {
  if (out.isTTY !== true) return PLAIN;
  return env.NO_COLOR !== undefined && env.NO_COLOR !== '' ? TTY_NO_COLOR : TTY;
}

/** Visible width: escape codes take no room. */
// eslint-disable-next-line no-control-regex -- matching the ESC of colour codes is the point
const width = (text: string): number => text.replace(/\x1b\[[0-9;]*m/g, '').length;
const pad = (text: string, to: number): string => text + ' '.repeat(Math.max(0, to - width(text)));

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => width(row[col] ?? '')))) ?? [];
  return rows.map((row) => row.map((cell, col) => pad(cell, widths[col] ?? 0)).join('  ').trimEnd()).join('\n');
}

function verdict(result: ProbeOutcome | undefined, style: Style): string {
  if (result === undefined) return style.dim('-');
  return result.ok ? style.ok(style.pass) : style.bad(`${style.fail} ${result.reason ?? ''}`.trim());
}

/** A failed result's words: `reason - message`. */
const why = (result: ProbeOutcome): string => `${result.reason ?? 'failed'}${result.message ? ` - ${result.message}` : ''}`;

/**
 * The tls check's failure in words, without the unmet requirements (each has a line of
 * its own); undefined when those lines say it all (the default handshake worked and the
 * chain verified).
 */
function tlsWhy(tls: TlsResult): string | undefined {
  const unmet = tls.requirements.filter((r) => r.verdict !== 'met');
  if (unmet.length > 0 && tls.handshake !== undefined && tls.certificate?.verified === true) return undefined;
  const own = (tls.message ?? '').split('; ').filter((part) => part !== '' && !unmet.some((r) => part.startsWith(`${r.requirement} ${r.verdict}:`)));
  return `${tls.reason ?? 'failed'}${own.length > 0 ? ` - ${own.join('; ')}` : ''}`;
}

/** The path's tcp check reached nothing, so the later checks were not tried (dial-plan.ts): they say nothing of their own. */
function notTried(entry: PathReport, result: ProbeOutcome): boolean {
  const tcp = entry.tcp;
  return tcp !== undefined && !tcp.ok && tcp.families.every((f) => f.reachable === 0) && result.reason === tcp.reason && result.durationSeconds === 0;
}

export function renderTable(reports: readonly RoundReport[], style: Style, elapsedSeconds: number, nowMs: number = Date.now()): string {
  const out: string[] = [];
  const rows: string[][] = [['HOST', 'PATH', 'DNS', 'TCP', 'TLS', 'HTTP']];
  const reqRows: string[][] = [['HOST', 'PATH', ...TLS_REQUIREMENTS.map((r) => REQUIREMENT_COLUMNS[r])]];
  const certRows: string[][] = [['HOST', 'PATH', 'EXPIRES', 'ISSUER', 'VERIFIED', 'TRUST']];
  const pullRows: string[][] = [['HOST', 'PATH', 'PULL', 'BLOB HOST']];
  const blockedRows: string[][] = [['HOST', 'PATH', 'MUST STAY BLOCKED', 'WHY']];
  const notes: string[] = [];
  /** Checks that had no address to connect to, per path: one line for them all, not one per host and check. */
  const noAddresses = new Map<string, { checks: Set<string>; hosts: string[]; message: string }>();
  for (const report of reports) {
    const host = targetName(report.target);
    const dnsFact = report.dnsRequired === false ? " (a fact, not a failure: this target's clients do not resolve it themselves)" : '';
    for (const dns of report.dns) if (!dns.ok && report.target.checks.includes('dns')) notes.push(`${host} dns via ${dns.resolver}: ${why(dns)}${dnsFact}`);
    for (const j of report.dnsJudgements) for (const finding of dnsFindings(j)) notes.push(`${host} dns via ${j.resolver}: ${finding}`);
    for (const entry of report.paths) {
      const http = entry.http;
      let httpCell = verdict(http, style);
      if (http?.protocol !== undefined) httpCell += ` HTTP/${http.protocol}${http.status !== undefined ? ` ${http.status}` : ''}`;
      if (entry.downgraded === true) httpCell += style.bad(' downgraded');
      let tlsCell = verdict(entry.tls, style);
      if (entry.intercepted === true) tlsCell += style.bad(' intercepted');
      rows.push([host, entry.path.name, verdict(dnsSummary(report), style), verdict(entry.tcp, style), tlsCell, httpCell]);
      if (entry.tls && entry.tls.requirements.length > 0) {
        const byName = new Map(entry.tls.requirements.map((r) => [r.requirement, r]));
        reqRows.push([
          host,
          entry.path.name,
          ...TLS_REQUIREMENTS.map((name) => {
            const r = byName.get(name);
            if (!r) return style.dim('-');
            if (r.verdict === 'met') return style.ok(style.pass);
            if (r.verdict === 'not_met') return style.bad(style.fail);
            return style.dim(style.untested);
          }),
        ]);
      }
      const cert = entry.tls?.certificate;
      if (cert !== undefined) {
        const words = certWords(cert, nowMs);
        const expires = words.expiry.replace(/^expires /, '');
        certRows.push([host, entry.path.name, words.soon ? style.bad(expires) : expires, words.issuer, cert.verified ? style.ok(words.verified) : style.bad(words.verified), words.trust]);
        if (words.soon && entry.blocked === undefined) {
          notes.push(`${host} certificate via ${entry.path.name}: ${words.expiry}, on ${new Date(cert.earliestNotAfter * 1000).toISOString()} (EgressTLSCertificateExpiringSoon warns below ${EXPIRY_WARNING_DAYS} days)`);
        }
      }
      const pull = entry.registry;
      if (pull) {
        const cell = pull.ok ? style.ok(style.pass) : style.bad(`${style.fail} ${pull.reason ?? ''} at ${pull.failedStep ?? '?'}`);
        pullRows.push([host, entry.path.name, cell, pull.blobServedBy === 'registry' ? '(the registry)' : (pull.blobHost ?? '-')]);
      }
      const blocked = entry.blocked;
      if (blocked !== undefined) {
        const cell = blocked.verdict === 'blocked' ? style.ok(`${style.pass} blocked`) : blocked.verdict === 'reachable' ? style.bad(`${style.fail} REACHABLE`) : style.bad(`${style.untested} could not tell`);
        blockedRows.push([host, entry.path.name, cell, blocked.detail]);
        // Its checks' failures are what keeps it out: the row above says it.
        continue;
      }
      const skipped: string[] = [];
      for (const [check, result] of [['tcp', entry.tcp], ['tls', entry.tls], ['http', entry.http], ['registry', entry.registry]] as const) {
        if (!result || result.ok) continue;
        if (result.reason === 'no_addresses') {
          const group = noAddresses.get(entry.path.name) ?? { checks: new Set<string>(), hosts: [], message: result.message ?? '' };
          group.checks.add(check);
          if (!group.hosts.includes(host)) group.hosts.push(host);
          noAddresses.set(entry.path.name, group);
        } else if (check !== 'tcp' && notTried(entry, result)) skipped.push(check);
        else if (check === 'tls' && entry.tls !== undefined) {
          const line = tlsWhy(entry.tls);
          if (line !== undefined) notes.push(`${host} tls via ${entry.path.name}: ${line}`);
        } else notes.push(`${host} ${check} via ${entry.path.name}: ${why(result)}`);
      }
      if (skipped.length > 0) {
        const at = notes.findIndex((n) => n.startsWith(`${host} tcp via ${entry.path.name}: `));
        if (at >= 0) notes[at] += ` (so ${skipped.join(', ')} not tried)`;
      }
      for (const r of entry.tls?.requirements ?? []) {
        if (r.verdict !== 'met') notes.push(`${host} tls ${r.requirement} via ${entry.path.name}: ${r.verdict === 'not_met' ? 'not met' : `untested (${r.reason ?? ''})`} - ${r.detail}`);
      }
    }
  }
  for (const [path, group] of noAddresses) {
    const who = group.hosts.length === 1 ? `${group.hosts[0] ?? ''} ` : '';
    const many = group.hosts.length === 1 ? '' : ` on ${counted(group.hosts.length, 'host')} (${group.hosts.join(', ')})`;
    notes.push(`${who}${[...group.checks].join(', ')} via ${path}${many}: no_addresses - ${group.message || 'no addresses to connect to'}`);
  }
  out.push(table(rows));
  if (reqRows.length > 1) out.push('', 'TLS requirements', table(reqRows));
  if (certRows.length > 1) out.push('', 'Certificates', table(certRows));
  if (pullRows.length > 1) out.push('', 'Registry pull', table(pullRows));
  if (blockedRows.length > 1) out.push('', 'Must stay blocked', table(blockedRows));
  if (notes.length > 0) out.push('', 'Why', ...notes.map((n) => `  ${n}`));
  const failing = reports.filter((r) => !roundOk(r)).length;
  const meeting = reports.length - failing;
  out.push(
    '',
    `${counted(reports.length, 'host')} checked in ${elapsedSeconds.toFixed(1)} s: ${meeting} ${agree(meeting, 'meets', 'meet')} every requirement, ${failing} ${agree(failing, 'does', 'do')} not.`,
  );
  return `${out.join('\n')}\n`;
}

/** The default handshake's facts, in the snake_case of every other key. */
function handshakeJson(h: TlsHandshakeFacts | undefined): Record<string, unknown> | null {
  return h === undefined ? null : { version: h.version, cipher: h.cipher, group: h.group, alpn: h.alpn, ems: h.ems, handshake_seconds: h.handshakeSeconds };
}

/** The chain's facts; times in ISO 8601. `intercepted` is the path's verdict (judged across paths), else the probe's own. */
function certificateJson(cert: TlsCertFacts | undefined, intercepted: boolean | undefined): Record<string, unknown> | null {
  if (cert === undefined) return null;
  const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();
  return {
    not_after: iso(cert.leafNotAfter),
    earliest_not_after: iso(cert.earliestNotAfter),
    subject: cert.subjectCN,
    issuer: issuerLabel(cert),
    verified: cert.verified,
    verify_error: cert.authorizationError ?? null,
    trust: cert.trust,
    intercepted: intercepted ?? cert.intercepted,
    chain_length: cert.chainLength,
  };
}

/** Every key in snake_case, as in Prometheus and the config file. */
export function renderJson(reports: readonly RoundReport[]): string {
  const brief = (r: ProbeOutcome | undefined) => (r === undefined ? null : { ok: r.ok, reason: r.reason ?? null, message: r.message ?? null, duration_seconds: r.durationSeconds });
  return `${JSON.stringify(
    {
      ok: reports.every(roundOk),
      hosts: reports.map((report) => ({
        host: report.target.host,
        port: report.target.port,
        ok: roundOk(report),
        // false: a failed lookup is a fact here, not a failure (the target's clients go through a proxy that resolves).
        dns_required: report.dnsRequired ?? null,
        dns: report.dns.map((d) => ({
          resolver: d.resolver,
          ...brief(d),
          records: d.records.map((r) => {
            const judged = dnsJudgementOf(report, d.resolver, r.type);
            return {
              type: r.type,
              ok: r.ok,
              reason: r.reason ?? null,
              ttl: r.ttl,
              addresses: r.addresses,
              ttl_max: judged?.ttlMax ?? null,
              ttl_below_firewall_refresh: judged?.ttlBelowRefresh ?? null,
              addresses_outside_allowlist: judged?.outsideAllowlist ?? null,
              ttl_changed: judged?.ttlChanged ?? null,
              addresses_changed: judged?.addressesChanged ?? null,
              address_set_since: judged?.addressSetSinceMs === undefined ? null : new Date(judged.addressSetSinceMs).toISOString(),
            };
          }),
        })),
        paths: report.paths.map((entry) => ({
          path: entry.path.name,
          tcp: brief(entry.tcp),
          tls: entry.tls ? { ...brief(entry.tls), intercepted: entry.intercepted ?? null, handshake: handshakeJson(entry.tls.handshake), certificate: certificateJson(entry.tls.certificate, entry.intercepted), requirements: Object.fromEntries(entry.tls.requirements.map((r) => [r.requirement, { verdict: r.verdict, reason: r.reason ?? null, detail: r.detail }])) } : null,
          http: entry.http ? { ...brief(entry.http), protocol: entry.http.protocol ?? null, status: entry.http.status ?? null, downgraded: entry.downgraded ?? null } : null,
          expect: entry.blocked === undefined ? 'reachable' : 'blocked',
          blocked: entry.blocked ? { verdict: entry.blocked.verdict, check: entry.blocked.check ?? null, detail: entry.blocked.detail } : null,
          registry: entry.registry
            ? {
                ...brief(entry.registry),
                failed_step: entry.registry.failedStep ?? null,
                blob_host: entry.registry.blobHost ?? null,
                steps: Object.fromEntries(Object.entries(entry.registry.steps).map(([step, r]) => [step, { ok: r.ok, seconds: r.seconds, status: r.status ?? null }])),
              }
            : null,
        })),
      })),
    },
    null,
    2,
  )}\n`;
}

/**
 * The targets `--host` names, each `host` (every port of it), `host:port` or `[v6]:port`:
 * read as /probe?target= reads them. A name that selects nothing is a usage error (the
 * message returned), listing the targets there are.
 */
export function selectTargets(targets: readonly Target[], wanted: readonly string[]): Target[] | string {
  const picks = wanted.map((text) => {
    const split = splitHostPort(text);
    const host = split === null ? null : normaliseHost(split.host);
    return { text, host, port: split?.port };
  });
  const malformed = picks.filter((p) => p.host === null).map((p) => JSON.stringify(p.text));
  if (malformed.length > 0) return `--host: ${malformed.join(', ')} ${malformed.length === 1 ? 'is' : 'are'} not a host or host:port`;
  const matches = (t: Target, p: (typeof picks)[number]): boolean => t.host === p.host && (p.port === undefined || t.port === p.port);
  const unknown = picks.filter((p) => !targets.some((t) => matches(t, p))).map((p) => JSON.stringify(p.text));
  if (unknown.length > 0) {
    const names = [...new Set(targets.map(targetName))];
    return `--host: ${unknown.join(', ')} ${unknown.length === 1 ? 'is not a target' : 'are not targets'} of the config (targets: ${names.join(', ')})`;
  }
  return targets.filter((t) => picks.some((p) => matches(t, p)));
}

interface CheckStreams {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

export async function runCheckCommand(argv: string[], streams: CheckStreams, probes: Partial<ProbeSet> = {}): Promise<number> {
  const usage = (message: string): number => {
    streams.err.write(`egress-exporter check: ${message}\n\n${CHECK_USAGE}`);
    return 2;
  };
  let values;
  let output: Output;
  try {
    values = parseCommandLine(argv, { 'config.file': { type: 'string' }, output: { type: 'string', default: 'table' }, host: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } });
    if (values.help === true) {
      streams.out.write(CHECK_USAGE);
      return 0;
    }
    output = oneOf('output', values.output, OUTPUTS);
  } catch (error) {
    return usage(error instanceof Error ? error.message : String(error));
  }

  let config: Config;
  try {
    config = values['config.file'] === undefined ? defaultConfig() : await loadConfigFile(values['config.file']);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    streams.err.write(`egress-exporter check: invalid config:\n${error.message}\n`);
    return 2;
  }
  let targets = resolveTargets(config);
  if (values.host !== undefined) {
    const chosen = selectTargets(targets, values.host);
    if (typeof chosen === 'string') return usage(chosen);
    targets = chosen;
  }

  const controller = new AbortController();
  const signal = roundSignal(controller.signal);
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  const progress = streams.err.isTTY === true;
  let done = 0;
  const showProgress = (): void => {
    if (progress) streams.err.write(`\r\x1b[2Kchecking ${counted(targets.length, 'host')}: ${done} done`);
  };
  showProgress();
  const started = process.hrtime.bigint();
  const logger = createLogger('error', 'json', new Writable({ write: (_c, _e, cb) => cb() }));
  // One answer, now: more at once than the daemon's steady pace.
  const runner = onDemandRunner({ config, signal, logger, concurrency: Math.max(config.concurrency, 16) });
  const context = roundContext({ config, trust: await readTrust(config), logger, probes }, runner);
  const reports = await Promise.all(
    targets.map(async (target) => {
      const report = await runRound(target, context);
      done += 1;
      showProgress();
      return report;
    }),
  );
  process.removeListener('SIGINT', onSignal);
  // Now that every round is in, a host that must stay blocked and went silent is judged by all of them.
  for (const report of reports) judgeExpectations(report, context);
  if (progress) streams.err.write('\r\x1b[2K');
  if (signal.aborted) {
    streams.err.write('egress-exporter check: interrupted\n');
    return 1;
  }
  const elapsed = secondsSince(started);
  streams.out.write(output === 'json' ? renderJson(reports) : renderTable(reports, styleFor(streams.out), elapsed));
  return reports.every(roundOk) ? 0 : 1;
}
