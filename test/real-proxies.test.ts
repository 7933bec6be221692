// Real proxies from Debian (mitmproxy, tinyproxy, squid, squid with basic auth and
// with ssl-bump) between the exporter and two loopback origins (TLS 1.3 and 1.2, h2;
// one with an ECDSA P-256 leaf, one with an RSA leaf). For each proxy the real clients
// go first: `curl -x` (HTTP version, status, the proxy's answer to CONNECT) and
// `openssl s_client -proxy` (the default handshake and each requirement's constrained
// handshakes). Then the exporter's own checks go through the same proxy (the proxy dial
// and tcp tunnel, the tls check, the http check) and are compared with them.
//
// Each proxy's describe block starts it once, asks the oracles once (beforeAll), and
// its tests compare. What the oracles see of each proxy is asserted too: it is what
// issue 20 says real proxies do, and what the fixture must reproduce.
//
// Where the exporter and the oracle disagree today (KNOWN_DISAGREEMENTS), the
// comparison leaves that one subject out and asserts everything else; fixing the probe
// means deleting the entry. Every other disagreement fails with both sides in the message.
//
// Network: the proxies resolve cgr.dev to 127.0.0.1 and nxdomain.lab.test to nothing
// (fixtures/real-proxies.ts); curl and openssl only ever talk to the proxy on 127.0.0.1.
// Every tool is required (scripts/ensure-tools.mjs installs it): nothing here skips.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCurl } from './fixtures/curl.js';
import type { CurlRun } from './fixtures/curl.js';
import { startOrigin } from './fixtures/http-servers.js';
import type { OriginLeaves, RunningOrigin } from './fixtures/http-servers.js';
import { listen } from './fixtures/listen.js';
import { OPENSSL, getPki } from './fixtures/pki.js';
import type { Pki } from './fixtures/pki.js';
import { UNRESOLVABLE_HOST, squidSegments, startMitmproxy, startSquid, startTinyproxy } from './fixtures/real-proxies.js';
import type { RealProxy, RunningSquid } from './fixtures/real-proxies.js';
import { refusedPort } from './fixtures/tls-servers.js';
import type { HttpExpectation, Target } from '../src/model/types.js';
import { probeHttp } from '../src/probes/http/http.js';
import type { HttpResult } from '../src/probes/http/http.js';
import { proxyDial } from '../src/probes/net/proxy.js';
import type { FailureReason } from '../src/probes/reasons.js';
import { probeTcpTunnel } from '../src/probes/net/tcp.js';
import type { TcpResult } from '../src/probes/net/tcp.js';
import { TLS_REQUIREMENTS, probeTls } from '../src/probes/tls/tls.js';
import type { TlsRequirement, TlsResult } from '../src/probes/tls/tls.js';

const HOST = 'cgr.dev';
const REGISTRY: HttpExpectation = { method: 'GET', path: '/v2/', expectStatus: [401], expectHeaders: { 'docker-distribution-api-version': 'registry/2.0' } };
const CREDENTIALS = { user: 'alice', pass: 'pa ss@word' };

// ---------------------------------------------------------------------------------
// The proxies, and the hosts asked through each

type ProxyName = 'mitmproxy' | 'mitmproxy-http1' | 'tinyproxy' | 'squid' | 'squid-auth' | 'squid-bump';
/** ecdsa / rsa: cgr.dev on the origin with that leaf; nxdomain: a name the proxy cannot resolve; refused: cgr.dev on a port nothing listens on. */
type Dest = 'ecdsa' | 'rsa' | 'nxdomain' | 'refused';
const ORIGIN_DESTS = ['ecdsa', 'rsa'] as const;
const ERROR_DESTS = ['nxdomain', 'refused'] as const;

interface ProxyCase {
  name: ProxyName;
  title: string;
  /** The proxy, and the CA it forges leaves with when it intercepts TLS. */
  start: () => Promise<{ proxy: RealProxy; forgingCa?: string }>;
  /** Sent by every client (curl -x URL, s_client -proxy_user/-proxy_pass, the exporter's proxy URL). */
  credentials?: { user: string; pass: string };
}

const mitmproxy = async (http2: boolean) => {
  const m = await startMitmproxy({ http2 });
  return { proxy: m, forgingCa: m.caCert };
};

const PROXIES: readonly ProxyCase[] = [
  { name: 'mitmproxy', title: 'mitmproxy 8.1 (regular mode, re-signing with its RSA CA)', start: () => mitmproxy(true) },
  { name: 'mitmproxy-http1', title: 'mitmproxy 8.1 with --set http2=false', start: () => mitmproxy(false) },
  { name: 'tinyproxy', title: 'tinyproxy 1.11', start: async () => ({ proxy: await startTinyproxy() }) },
  { name: 'squid', title: 'squid 5.7', start: async () => ({ proxy: await startSquid() }) },
  { name: 'squid-auth', title: 'squid 5.7 with basic auth', start: async () => ({ proxy: await startSquid({ basicAuth: CREDENTIALS }) }), credentials: CREDENTIALS },
  {
    name: 'squid-bump',
    title: 'squid 5.7 with ssl-bump',
    start: async () => {
      const s = await startSquid({ sslBump: true });
      return { proxy: s, ...(s.bumpCa !== undefined && { forgingCa: s.bumpCa }) };
    },
  },
];

let pki: Pki;
let workDir: string;
let rootCaFile: string;
const origins = new Map<OriginLeaves, RunningOrigin>();
let deadPort: number;

beforeAll(async () => {
  pki = await getPki();
  workDir = await mkdtemp(join(tmpdir(), 'egress-real-proxies-'));
  rootCaFile = join(workDir, 'root.pem');
  await writeFile(rootCaFile, pki.rootCa);
  for (const leaves of ['ecdsa', 'rsa'] as const) origins.set(leaves, await startOrigin('h2', '127.0.0.1', leaves));
  deadPort = await refusedPort();
});

afterAll(async () => {
  await Promise.all([...origins.values()].map((o) => o.close()));
  await rm(workDir, { recursive: true, force: true });
});

function destination(dest: Dest): { host: string; port: number } {
  switch (dest) {
    case 'ecdsa':
    case 'rsa':
      return { host: HOST, port: origins.get(dest)!.port };
    case 'nxdomain':
      return { host: UNRESOLVABLE_HOST, port: origins.get('ecdsa')!.port };
    case 'refused':
      return { host: HOST, port: deadPort };
  }
}

type Credentials = { user: string; pass: string } | null;

/** The proxy URL with these credentials (percent-encoded, as curl and the exporter decode them). */
function proxyUrl(p: RealProxy, credentials: Credentials): string {
  const url = new URL(p.url);
  if (credentials !== null) {
    url.username = encodeURIComponent(credentials.user);
    url.password = encodeURIComponent(credentials.pass);
  }
  return url.href;
}

async function limited<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

// ---------------------------------------------------------------------------------
// Oracle 1: curl -x

interface CurlSays {
  /** '2', '1.1', or '0' when no HTTP exchange happened. */
  version: string;
  status: number;
  /** The proxy's answer to CONNECT. */
  connect: number;
  /** Every response head curl saw (the CONNECT answer first), for the proxy's own words. */
  heads: string;
  run: CurlRun;
}

async function curlVia(url: string, dest: Dest): Promise<CurlSays> {
  const { host, port } = destination(dest);
  const run = await runCurl(['--http2', '-sk', '-D', '-', '-o', '/dev/null', '--max-time', '15', '-w', '\n%{http_version} %{http_code} %{http_connect}', '-x', url, `https://${host}:${port}/v2/`]);
  const lines = run.stdout.trimEnd().split('\n');
  const [version = '', status = '', connect = ''] = (lines.pop() ?? '').trim().split(' ');
  return { version, status: Number(status), connect: Number(connect), heads: lines.join('\n'), run };
}

// ---------------------------------------------------------------------------------
// Oracle 2: openssl s_client -proxy

type SClientOutcome = 'handshake' | 'alert' | 'closed' | 'local_error' | 'connect_failed';

interface SClientRun {
  outcome: SClientOutcome;
  /** alert: its number; connect_failed: the proxy's status. */
  code?: number;
  protocol?: string;
  cipher?: string;
  alpn?: string;
  ems?: 'yes' | 'no';
  tempKey?: string;
  /** The leaf's issuer CN, from the printed chain. */
  issuerCN?: string;
  /** With -CAfile: `Verify return code`. */
  verify?: number;
  output: string;
}

/** `closed`, `alert 40`, `handshake TLSv1.3`, ...: what a table of outcomes compares. */
function outcomeText(r: SClientRun): string {
  switch (r.outcome) {
    case 'handshake':
      return `handshake ${r.protocol}${r.alpn === undefined ? '' : ` alpn ${r.alpn}`}`;
    case 'alert':
      return `alert ${r.code}`;
    case 'connect_failed':
      return `CONNECT ${r.code}`;
    default:
      return r.outcome;
  }
}

function runSClient(c: ProxyCase, p: RealProxy, dest: Dest, args: readonly string[]): Promise<SClientRun> {
  const { host, port } = destination(dest);
  const auth = c.credentials === undefined ? [] : ['-proxy_user', c.credentials.user, '-proxy_pass', `pass:${c.credentials.pass}`];
  const argv = ['s_client', '-proxy', `127.0.0.1:${p.port}`, ...auth, '-connect', `${host}:${port}`, '-servername', host, ...args];
  return new Promise((resolve, reject) => {
    // stdin is /dev/null, like the vendor's `< /dev/null`.
    const child = spawn(OPENSSL, argv, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', (err: Error & { code?: string }) => {
      reject(err.code === 'ENOENT' ? new Error(`openssl CLI not found (${OPENSSL}): install Debian's "openssl" package; it is the independent judge here`) : err);
    });
    child.once('close', (code, signal) => {
      const output = `$ openssl ${argv.join(' ')}  (exit ${code ?? signal})\n${out}`;
      if (signal !== null) {
        reject(new Error(`killed by ${signal}:\n${output}`));
        return;
      }
      const m = (re: RegExp) => re.exec(out)?.[1];
      const run: SClientRun = { outcome: 'closed', output };
      const connectFailed = m(/HTTP CONNECT failed, reason=\s*(\d{3})/);
      const established = /^New, (TLSv[\d.]+), Cipher is (\S+)/m.exec(out);
      const alert = m(/SSL alert number (\d+)/);
      if (connectFailed !== undefined) [run.outcome, run.code] = ['connect_failed', Number(connectFailed)];
      else if (established !== null) [run.outcome, run.protocol, run.cipher] = ['handshake', established[1]!, established[2]!];
      else if (alert !== undefined) [run.outcome, run.code] = ['alert', Number(alert)];
      else if (/:SSL routines:/.test(out) && !/unexpected eof while reading/.test(out)) run.outcome = 'local_error';
      const alpn = m(/^ALPN protocol: (\S+)/m);
      if (alpn !== undefined) run.alpn = alpn;
      const ems = m(/Extended master secret: (yes|no)/);
      if (ems === 'yes' || ems === 'no') run.ems = ems;
      const issuerCN = m(/^ 0 s:.*\n\s+i:.*\bCN = ([^,\n]+)/m);
      if (issuerCN !== undefined) run.issuerCN = issuerCN.trim();
      const tempKey = m(/^Server Temp Key: (.+)$/m);
      if (tempKey !== undefined) run.tempKey = tempKey;
      const verify = m(/Verify return code: (\d+)/);
      if (verify !== undefined) run.verify = Number(verify);
      resolve(run);
    });
  });
}

interface OpensslCheck {
  args: readonly string[];
  /** The version this run pins, for a requirement judged on each version the server speaks. */
  version?: '-tls1_2' | '-tls1_3';
  /** Met, from a completed handshake. */
  met: (r: SClientRun) => boolean;
}

// The requirements as openssl is told them, written from the requirement text (as in
// tls-openssl.test.ts), with -proxy in front of each.
const OPENSSL_CHECKS: Record<TlsRequirement, readonly OpensslCheck[]> = {
  tls13_aes_256_gcm_sha384: [{ args: ['-tls1_3', '-ciphersuites', 'TLS_AES_256_GCM_SHA384'], met: (r) => r.protocol === 'TLSv1.3' && r.cipher === 'TLS_AES_256_GCM_SHA384' }],
  tls12_ecdhe_ecdsa_aes_256_gcm_sha384: [{ args: ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-GCM-SHA384'], met: (r) => r.protocol === 'TLSv1.2' && r.cipher === 'ECDHE-ECDSA-AES256-GCM-SHA384' }],
  extended_master_secret: [{ args: ['-tls1_2'], met: (r) => r.protocol === 'TLSv1.2' && r.ems === 'yes' }],
  group_p256: [
    { args: ['-tls1_3', '-groups', 'P-256'], version: '-tls1_3', met: (r) => r.tempKey === 'ECDH, prime256v1, 256 bits' },
    { args: ['-tls1_2', '-groups', 'P-256', '-cipher', 'ECDHE:!aNULL:!eNULL'], version: '-tls1_2', met: (r) => r.tempKey === 'ECDH, prime256v1, 256 bits' },
  ],
  sig_ecdsa_secp256r1_sha256: [{ args: ['-sigalgs', 'ecdsa_secp256r1_sha256'], met: () => true }],
  sig_rsa_pss_rsae_sha256: [{ args: ['-sigalgs', 'rsa_pss_rsae_sha256'], met: () => true }],
  alpn_h2: [{ args: ['-alpn', 'h2,http/1.1'], met: (r) => r.alpn === 'h2' }],
  baseline: [
    {
      args: ['-cipher', '@SECLEVEL=2:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384', '-ciphersuites', 'TLS_AES_256_GCM_SHA384', '-groups', 'P-256', '-alpn', 'h2'],
      met: (r) => r.alpn === 'h2' && (r.protocol !== 'TLSv1.2' || r.ems === 'yes'),
    },
  ],
};

/** The handshakes a person checks a proxy with (issue 20), each run once and its outcome asserted per proxy. */
const PLAIN_COMMANDS = {
  default: [] as string[],
  'tls1_3 aes256': ['-tls1_3', '-ciphersuites', 'TLS_AES_256_GCM_SHA384'],
  'tls1_2 ecdsa': ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
  'groups P-256': ['-groups', 'P-256'],
  'sigalgs ecdsa': ['-sigalgs', 'ecdsa_secp256r1_sha256'],
  'sigalgs rsa-pss': ['-sigalgs', 'rsa_pss_rsae_sha256'],
  'alpn h2': ['-alpn', 'h2'],
} as const;
type PlainCommand = keyof typeof PLAIN_COMMANDS;

/** What openssl says of each requirement: met, not met (a completed handshake that misses it, an alert, a close), or untested (CONNECT refused). */
interface OpensslVerdict {
  verdict: 'met' | 'not_met' | 'untested';
  /** untested: the reason the proxy's answer to CONNECT stands for. */
  reason?: FailureReason;
  evidence: string;
}

function opensslVerdict(requirement: TlsRequirement, runs: readonly SClientRun[], speaks: ReadonlyMap<string, boolean>): OpensslVerdict {
  const checks = OPENSSL_CHECKS[requirement].map((check, i) => ({ check, run: runs[i]! }));
  const evidence = checks.map(({ check, run }) => `${check.args.join(' ') || '(default)'}: ${outcomeText(run)}${run.alpn === undefined ? '' : ` alpn ${run.alpn}`}`).join('; ');
  const refused = checks.find(({ run }) => run.outcome === 'connect_failed');
  if (refused !== undefined) return { verdict: 'untested', reason: connectReason(refused.run.code!), evidence };
  // Judged on each version the server speaks, as the exporter does (tls-openssl.test.ts).
  const spoken = checks.filter(({ check }) => check.version === undefined || speaks.get(check.version) === true);
  const met = spoken.length > 0 && spoken.every(({ check, run }) => run.outcome === 'handshake' && check.met(run));
  return { verdict: met ? 'met' : 'not_met', evidence };
}

/**
 * The reason a proxy's refusal of CONNECT stands for. A 5xx means the proxy could not
 * reach the host (tinyproxy's `500 Unable to connect`, squid's `500` for a name it cannot
 * resolve, `503` for a refused port, mitmproxy's `502`): a bad gateway.
 */
function connectReason(status: number): FailureReason {
  if (status === 407) return 'proxy_auth_required';
  if (status === 403) return 'proxy_denied';
  if (status >= 500 && status <= 504) return 'proxy_bad_gateway';
  return 'proxy_protocol_error';
}

/** Node's group name for openssl's `Server Temp Key`. */
function groupOf(tempKey: string | undefined): string | undefined {
  if (tempKey === undefined) return undefined;
  if (tempKey.startsWith('X25519')) return 'X25519';
  if (tempKey.startsWith('ECDH, prime256v1')) return 'P-256';
  return tempKey;
}

// ---------------------------------------------------------------------------------
// The exporter

function target(dest: Dest): Target {
  const { host, port } = destination(dest);
  return { host, port, families: ['v4'], checks: ['tcp', 'tls', 'http'], labels: {}, purpose: 'test', source: 'test' };
}

function dialVia(c: ProxyCase, p: RealProxy, dest: Dest, credentials: Credentials = c.credentials ?? null) {
  const { host, port } = destination(dest);
  return proxyDial({ name: c.name, url: new URL(proxyUrl(p, credentials)) }, host, port);
}

async function withDeadline<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 20_000);
  try {
    return await run(ac.signal);
  } finally {
    clearTimeout(timer);
  }
}

function exporterTunnel(c: ProxyCase, p: RealProxy, dest: Dest, credentials: Credentials = c.credentials ?? null): Promise<TcpResult> {
  return withDeadline((signal) => probeTcpTunnel(target(dest), { dial: dialVia(c, p, dest, credentials) }, signal));
}

/** The origins' chains come from the test PKI (O=Egress Test): any other issuer is interception. */
const EXPECTED_ISSUERS = ['Egress Test'];

function exporterTls(c: ProxyCase, p: RealProxy, dest: Dest, requirements: readonly TlsRequirement[] = TLS_REQUIREMENTS, ca: readonly string[] = [pki.rootCa]): Promise<TlsResult> {
  return withDeadline((signal) => probeTls(target(dest), { dial: dialVia(c, p, dest), ca, requirements, expectedIssuers: EXPECTED_ISSUERS }, signal));
}

function exporterHttp(c: ProxyCase, p: RealProxy, dest: Dest, credentials: Credentials = c.credentials ?? null): Promise<HttpResult> {
  return withDeadline((signal) => probeHttp(target(dest), { dial: dialVia(c, p, dest, credentials), viaProxy: true, expectation: REGISTRY, ca: [pki.rootCa] }, signal));
}

// ---------------------------------------------------------------------------------
// Comparisons. Each returns the subjects on which the two sides differ, both sides in words.

interface Disagreement {
  /** `tls ecdsa sig_ecdsa_secp256r1_sha256`, `tunnel nxdomain`, ... */
  subject: string;
  exporter: string;
  oracle: string;
}

function compareTunnel(dest: Dest, ours: TcpResult, theirs: CurlSays): Disagreement[] {
  const want = theirs.connect === 200 ? 'ok' : connectReason(theirs.connect);
  const got = ours.ok ? 'ok' : (ours.reason ?? 'no reason');
  if (got === want) return [];
  return [{ subject: `tunnel ${dest}`, exporter: `${got}: ${ours.message ?? ''}`, oracle: `curl: CONNECT answered ${theirs.connect} (${firstLine(theirs.heads)}), so ${want}` }];
}

function compareHttp(dest: Dest, ours: HttpResult, theirs: CurlSays): Disagreement[] {
  const said = (r: HttpResult) => JSON.stringify({ protocol: r.protocol, status: r.status, valid: r.valid, reason: r.reason, answeredByProxy: r.answeredByProxy, message: r.message });
  const oracle = `curl: ${theirs.run.stdout.trim().split('\n').pop() ?? ''} (exit ${theirs.run.code}); heads: ${theirs.heads.replace(/\r?\n/g, ' | ')}`;
  if (theirs.connect !== 200) {
    // No HTTP exchange: the proxy refused CONNECT.
    const want = connectReason(theirs.connect);
    return ours.reason === want && ours.protocol === undefined ? [] : [{ subject: `http ${dest}`, exporter: said(ours), oracle: `${oracle}, so ${want}` }];
  }
  if (theirs.run.code !== 0 || theirs.version === '0') {
    return ours.protocol === undefined && !ours.ok ? [] : [{ subject: `http ${dest}`, exporter: said(ours), oracle: `${oracle}: no HTTP answer` }];
  }
  // The answer is the registry's (401 with its header), or an error page of the proxy inside the tunnel it bumped.
  const valid = theirs.status === 401 && /^docker-distribution-api-version: registry\/2\.0\r?$/im.test(theirs.heads);
  const proxyPage = /^x-squid-error: /im.test(theirs.heads) ? connectReason(theirs.status) : undefined;
  const agrees =
    ours.protocol === theirs.version &&
    ours.status === theirs.status &&
    ours.valid === valid &&
    (proxyPage === undefined ? ours.answeredByProxy !== true : ours.answeredByProxy === true && ours.reason === proxyPage);
  return agrees ? [] : [{ subject: `http ${dest}`, exporter: said(ours), oracle: `${oracle}${valid ? ', the registry answer' : ''}${proxyPage === undefined ? '' : `, the proxy's own page: ${proxyPage}`}` }];
}

function compareTls(dest: Dest, ours: TlsResult, runs: Map<TlsRequirement, SClientRun[]>, speaks: ReadonlyMap<string, boolean>, plain: SClientRun): Disagreement[] {
  const out: Disagreement[] = [];
  // The default handshake: openssl's own defaults (no ALPN) against the exporter's (ALPN h2, http/1.1).
  // Interception, as a person reads it off the chain: the leaf's issuer is not the origins' CA.
  const theirsBase =
    plain.outcome === 'handshake'
      ? `${plain.protocol} ${groupOf(plain.tempKey)} verified ${plain.verify === 0} issuer ${plain.issuerCN} intercepted ${!(plain.issuerCN ?? '').startsWith('Egress Test')}`
      : outcomeText(plain);
  const cert = ours.certificate;
  const oursBase =
    ours.handshake !== undefined
      ? `${ours.handshake.version} ${ours.handshake.group} verified ${cert?.verified === true} issuer ${cert?.issuerCN} intercepted ${cert?.intercepted}`
      : `no handshake: ${ours.reason}`;
  const baseAgrees = plain.outcome === 'handshake' ? oursBase === theirsBase : ours.handshake === undefined && (plain.outcome !== 'connect_failed' || ours.reason === connectReason(plain.code!));
  if (!baseAgrees) out.push({ subject: `tls ${dest} default`, exporter: `${oursBase} (${ours.message ?? ''})`, oracle: `openssl: ${theirsBase}` });
  for (const r of ours.requirements) {
    const theirs = opensslVerdict(r.requirement, runs.get(r.requirement)!, speaks);
    const agrees = r.verdict === theirs.verdict && (theirs.verdict !== 'untested' || r.reason === theirs.reason);
    if (!agrees) {
      out.push({
        subject: `tls ${dest} ${r.requirement}`,
        exporter: `${r.verdict}${r.reason === undefined ? '' : ` (${r.reason})`}: ${r.detail}`,
        oracle: `openssl: ${theirs.verdict}${theirs.reason === undefined ? '' : ` (${theirs.reason})`}: ${theirs.evidence}`,
      });
    }
  }
  return out;
}

function firstLine(text: string): string {
  return text.split(/\r?\n/)[0] ?? '';
}

// ---------------------------------------------------------------------------------
// Where the exporter disagreed with the oracle (issue 20): none left. mitmproxy closes an
// ECDSA-only offer without an alert, and the exporter, seeing the same close twice where
// the unconstrained handshake works, says not met, as openssl's failed handshake does; a
// 500 to CONNECT that says the host is out of reach reads as proxy_bad_gateway. A new
// disagreement goes here, keyed `${proxy} ${subject}`, with both sides in the comment.
const KNOWN_DISAGREEMENTS: ReadonlySet<string> = new Set<string>([]);

/** Fails on every disagreement that is not a known one; the message has both sides and the proxy's log. */
function expectAgreement(c: ProxyCase, p: RealProxy, found: readonly Disagreement[]): void {
  const unknown = found.filter((d) => !KNOWN_DISAGREEMENTS.has(`${c.name} ${d.subject}`));
  const text = unknown.map((d) => `${c.name} ${d.subject}\n  exporter: ${d.exporter}\n  oracle:   ${d.oracle}`).join('\n');
  expect(unknown, `${text}\n--- ${c.name} log (tail):\n${p.log().slice(-3000)}`).toEqual([]);
}

// ---------------------------------------------------------------------------------
// What the oracles see of each real proxy (issue 20): asserted, so the fixture is known
// to reproduce it.

interface CurlExpectation {
  /** curl's HTTP version and status through the proxy to each origin. */
  origin: { version: string; status: number };
  /** The proxy's answer to CONNECT for each error destination, and the status inside the tunnel when it bumps (0: none). */
  nxdomain: { connect: number; status: number; head: RegExp };
  refused: { connect: number; status: number; head: RegExp };
}

const CURL_SEES: Record<ProxyName, CurlExpectation> = {
  mitmproxy: { origin: { version: '2', status: 401 }, nxdomain: { connect: 502, status: 0, head: /^HTTP\/1\.1 502/ }, refused: { connect: 502, status: 0, head: /^HTTP\/1\.1 502/ } },
  'mitmproxy-http1': { origin: { version: '1.1', status: 401 }, nxdomain: { connect: 502, status: 0, head: /^HTTP\/1\.1 502/ }, refused: { connect: 502, status: 0, head: /^HTTP\/1\.1 502/ } },
  tinyproxy: { origin: { version: '2', status: 401 }, nxdomain: { connect: 500, status: 0, head: /^HTTP\/1\.[01] 500 Unable to connect/ }, refused: { connect: 500, status: 0, head: /^HTTP\/1\.[01] 500 Unable to connect/ } },
  squid: { origin: { version: '2', status: 401 }, nxdomain: { connect: 500, status: 0, head: /X-Squid-Error: ERR_(CANNOT_FORWARD|DNS_FAIL)/ }, refused: { connect: 503, status: 0, head: /X-Squid-Error: ERR_CONNECT_FAIL/ } },
  'squid-auth': { origin: { version: '2', status: 401 }, nxdomain: { connect: 500, status: 0, head: /X-Squid-Error: ERR_(CANNOT_FORWARD|DNS_FAIL)/ }, refused: { connect: 503, status: 0, head: /X-Squid-Error: ERR_CONNECT_FAIL/ } },
  'squid-bump': { origin: { version: '1.1', status: 401 }, nxdomain: { connect: 200, status: 502, head: /X-Squid-Error: ERR_/ }, refused: { connect: 200, status: 503, head: /X-Squid-Error: ERR_CONNECT_FAIL/ } },
};

type PlainTable = Record<PlainCommand, string>;

/** A plain tunnel shows the origin: the ECDSA origin cannot sign RSA-PSS, the RSA origin has no ECDSA key. */
const THROUGH_TUNNEL: Record<'ecdsa' | 'rsa', PlainTable> = {
  ecdsa: {
    default: 'handshake TLSv1.3',
    'tls1_3 aes256': 'handshake TLSv1.3',
    'tls1_2 ecdsa': 'handshake TLSv1.2',
    'groups P-256': 'handshake TLSv1.3',
    'sigalgs ecdsa': 'handshake TLSv1.3',
    'sigalgs rsa-pss': 'alert 40',
    'alpn h2': 'handshake TLSv1.3 alpn h2',
  },
  rsa: {
    default: 'handshake TLSv1.3',
    'tls1_3 aes256': 'handshake TLSv1.3',
    'tls1_2 ecdsa': 'alert 40',
    'groups P-256': 'handshake TLSv1.3',
    'sigalgs ecdsa': 'alert 40',
    'sigalgs rsa-pss': 'handshake TLSv1.3',
    'alpn h2': 'handshake TLSv1.3 alpn h2',
  },
};

/**
 * An intercepting proxy shows itself, whatever the origin: an RSA leaf of its own, so an
 * ECDSA-only client gets no handshake. mitmproxy closes the connection without an alert
 * ("no shared cipher" in its log); squid answers alert 40. `alpnH2`: what `-alpn h2` gets.
 */
function intercepted(ecdsaOnly: 'closed' | 'alert 40', alpnH2: string): PlainTable {
  return {
    default: 'handshake TLSv1.3',
    'tls1_3 aes256': 'handshake TLSv1.3',
    'tls1_2 ecdsa': ecdsaOnly,
    'groups P-256': 'handshake TLSv1.3',
    'sigalgs ecdsa': ecdsaOnly,
    'sigalgs rsa-pss': 'handshake TLSv1.3',
    'alpn h2': alpnH2,
  };
}

/** openssl s_client's outcome for each plain command, per proxy and origin. */
const S_CLIENT_SEES: Record<ProxyName, Record<'ecdsa' | 'rsa', PlainTable>> = {
  // mitmproxy passes ALPN h2 through; with http2=false it selects no protocol for an h2-only offer.
  mitmproxy: { ecdsa: intercepted('closed', 'handshake TLSv1.3 alpn h2'), rsa: intercepted('closed', 'handshake TLSv1.3 alpn h2') },
  'mitmproxy-http1': { ecdsa: intercepted('closed', 'handshake TLSv1.3'), rsa: intercepted('closed', 'handshake TLSv1.3') },
  tinyproxy: THROUGH_TUNNEL,
  squid: THROUGH_TUNNEL,
  'squid-auth': THROUGH_TUNNEL,
  // squid sends no ALPN to clients when it bumps.
  'squid-bump': { ecdsa: intercepted('alert 40', 'handshake TLSv1.3'), rsa: intercepted('alert 40', 'handshake TLSv1.3') },
};

// ---------------------------------------------------------------------------------

interface Observed {
  curl: Map<Dest, CurlSays>;
  /** Per origin: requirement -> runs (OPENSSL_CHECKS order). */
  requirements: Map<Dest, Map<TlsRequirement, SClientRun[]>>;
  /** Per origin: -tls1_2 / -tls1_3 -> a plain handshake of that version completes. */
  speaks: Map<Dest, Map<string, boolean>>;
  /** Per destination: the plain commands (default with -CAfile). */
  plain: Map<Dest, Map<PlainCommand, SClientRun>>;
}

for (const c of PROXIES) {
  describe(`through ${c.title}`, () => {
    let p: RealProxy;
    let forgingCa: string | undefined;
    const seen: Observed = { curl: new Map(), requirements: new Map(), speaks: new Map(), plain: new Map() };

    beforeAll(async () => {
      ({ proxy: p, forgingCa } = await c.start());
      const url = proxyUrl(p, c.credentials ?? null);
      const tasks: (() => Promise<void>)[] = [];
      for (const dest of [...ORIGIN_DESTS, ...ERROR_DESTS]) {
        tasks.push(async () => void seen.curl.set(dest, await curlVia(url, dest)));
        const plain = new Map<PlainCommand, SClientRun>();
        seen.plain.set(dest, plain);
        const commands = (ORIGIN_DESTS as readonly Dest[]).includes(dest) ? (Object.keys(PLAIN_COMMANDS) as PlainCommand[]) : (['default'] as const);
        for (const name of commands) {
          const args = name === 'default' ? ['-CAfile', rootCaFile, '-verify_hostname', destination(dest).host] : PLAIN_COMMANDS[name];
          tasks.push(async () => void plain.set(name, await runSClient(c, p, dest, args)));
        }
      }
      for (const dest of ORIGIN_DESTS) {
        const perReq = new Map<TlsRequirement, SClientRun[]>();
        seen.requirements.set(dest, perReq);
        const versions = new Map<string, boolean>();
        seen.speaks.set(dest, versions);
        for (const flag of ['-tls1_2', '-tls1_3']) tasks.push(async () => void versions.set(flag, (await runSClient(c, p, dest, [flag])).outcome === 'handshake'));
        for (const req of TLS_REQUIREMENTS) {
          const runs: SClientRun[] = [];
          perReq.set(req, runs);
          OPENSSL_CHECKS[req].forEach((check, i) => tasks.push(async () => void (runs[i] = await runSClient(c, p, dest, check.args))));
        }
      }
      await limited(tasks, 4);
    }, 60_000);

    afterAll(async () => {
      await p?.stop();
    });

    it('curl: the HTTP version and status through it, and its answers for a name it cannot resolve and a refused port', () => {
      const want = CURL_SEES[c.name];
      const context = (dest: Dest) => `${seen.curl.get(dest)!.run.command}\n${seen.curl.get(dest)!.run.stdout}\n--- proxy log:\n${p.log().slice(-3000)}`;
      for (const dest of ORIGIN_DESTS) {
        const got = seen.curl.get(dest)!;
        expect({ version: got.version, status: got.status, connect: got.connect }, context(dest)).toEqual({ ...want.origin, connect: 200 });
      }
      for (const dest of ERROR_DESTS) {
        const got = seen.curl.get(dest)!;
        expect({ connect: got.connect, status: got.status }, context(dest)).toEqual({ connect: want[dest].connect, status: want[dest].status });
        expect(got.heads, context(dest)).toMatch(want[dest].head);
      }
    });

    it('openssl s_client: the outcome of each handshake a person would try', () => {
      const got: Record<string, Record<string, string>> = {};
      for (const dest of ORIGIN_DESTS) got[dest] = Object.fromEntries([...seen.plain.get(dest)!].map(([name, run]) => [name, outcomeText(run)]));
      const evidence = [...ORIGIN_DESTS].flatMap((dest) => [...seen.plain.get(dest)!.values()].map((r) => r.output.slice(0, 1500))).join('\n\n');
      expect(got, evidence).toEqual(S_CLIENT_SEES[c.name]);
    });

    it('the proxy dial and tcp tunnel agree with curl on the answer to CONNECT', async () => {
      const found: Disagreement[] = [];
      for (const dest of [...ORIGIN_DESTS, ...ERROR_DESTS]) found.push(...compareTunnel(dest, await exporterTunnel(c, p, dest), seen.curl.get(dest)!));
      expectAgreement(c, p, found);
    });

    it.each(ORIGIN_DESTS)('the tls check agrees with openssl on the %s origin: the default handshake and every requirement', async (dest) => {
      const ours = await exporterTls(c, p, dest);
      expect(ours.requirements.map((r) => r.requirement)).toEqual([...TLS_REQUIREMENTS]);
      expectAgreement(c, p, compareTls(dest, ours, seen.requirements.get(dest)!, seen.speaks.get(dest)!, seen.plain.get(dest)!.get('default')!));
    });

    it('the tls check agrees with openssl for a name the proxy cannot resolve and a refused port (default handshake)', async () => {
      const found: Disagreement[] = [];
      for (const dest of ERROR_DESTS) found.push(...compareTls(dest, await exporterTls(c, p, dest, []), new Map(), new Map(), seen.plain.get(dest)!.get('default')!));
      expectAgreement(c, p, found);
    });

    it('the http check agrees with curl: HTTP version and status, or the proxy reason', async () => {
      const found: Disagreement[] = [];
      for (const dest of [...ORIGIN_DESTS, ...ERROR_DESTS]) found.push(...compareHttp(dest, await exporterHttp(c, p, dest), seen.curl.get(dest)!));
      expectAgreement(c, p, found);
    });

    if (c.name === 'mitmproxy' || c.name === 'squid-bump') {
      it("trusting the proxy's own CA, openssl and the tls check both verify the forged chain (and, above, neither does without it)", async () => {
        expect(forgingCa).toMatch(/^-----BEGIN CERTIFICATE-----/);
        const caFile = join(workDir, `${c.name}-ca.pem`);
        await writeFile(caFile, forgingCa!);
        const theirs = await runSClient(c, p, 'ecdsa', ['-CAfile', caFile, '-verify_hostname', HOST]);
        const ours = await exporterTls(c, p, 'ecdsa', [], [pki.rootCa, forgingCa!]);
        expect({ openssl: theirs.verify, exporter: ours.certificate?.verified }, `${theirs.output}\n${ours.message ?? ''}`).toEqual({ openssl: 0, exporter: true });
        expect(seen.plain.get('ecdsa')!.get('default')!.verify).not.toBe(0);
      });
    }

    if (c.credentials !== undefined) {
      it('without credentials and with wrong ones, curl gets 407 and the exporter proxy_auth_required', async () => {
        for (const credentials of [null, { user: c.credentials!.user, pass: 'wrong' }]) {
          const theirs = await curlVia(proxyUrl(p, credentials), 'ecdsa');
          const tunnel = await exporterTunnel(c, p, 'ecdsa', credentials);
          const http = await exporterHttp(c, p, 'ecdsa', credentials);
          const context = `${theirs.run.command}: ${theirs.run.stdout}\nexporter: ${tunnel.message ?? ''} / ${http.message ?? ''}`;
          expect(theirs.connect, context).toBe(407);
          expect({ tunnel: tunnel.reason, http: http.reason }, context).toEqual({ tunnel: 'proxy_auth_required', http: 'proxy_auth_required' });
          expect(tunnel.message, context).toMatch(credentials === null ? /no credentials sent/ : /credentials sent were refused/);
        }
      });
    }
  });
}

// ---------------------------------------------------------------------------------
// The fixtures themselves

/** Processes whose command line names `text` (an instance's directory). */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(text)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the real-proxy fixtures', () => {
  it('run several instances of each daemon at once, each on its own port, and stop() leaves no process, file or segment behind', async () => {
    const started = await Promise.all([
      startTinyproxy(),
      startTinyproxy(),
      startMitmproxy(),
      startMitmproxy({ http2: false }),
      startSquid({ basicAuth: CREDENTIALS }),
      startSquid({ sslBump: true }),
    ]);
    const squids = started.slice(4) as RunningSquid[];
    try {
      expect(new Set(started.map((s) => s.port)).size).toBe(started.length);
      for (const [i, s] of started.entries()) {
        const theirs = await curlVia(proxyUrl(s, i === 4 ? CREDENTIALS : null), 'ecdsa');
        expect(theirs.status, `${theirs.run.command}: ${theirs.run.stdout}\n${s.log()}`).toBe(401);
      }
      // squid's helpers run in its process group: basic_ncsa_auth, security_file_certgen.
      for (const s of squids) expect(processesMentioning(s.dir).length, processesMentioning(s.dir).join('\n')).toBeGreaterThanOrEqual(2);
      for (const s of squids) expect(squidSegments(s.serviceName).length).toBeGreaterThan(0);
    } finally {
      await Promise.all(started.map((s) => s.stop()));
    }
    for (const s of started) {
      expect(groupAlive(s.pid), `process group ${s.pid}`).toBe(false);
      expect(processesMentioning(s.dir)).toEqual([]);
      expect(existsSync(s.dir), s.dir).toBe(false);
    }
    for (const s of squids) expect(squidSegments(s.serviceName)).toEqual([]);
    // The daemon's words outlive it, for a failure message written after stop().
    expect(started[0].log()).toMatch(/Accepting connections/);
  }, 60_000);

  it.each([
    ['tinyproxy', (firstPort: number) => startTinyproxy({ firstPort })],
    ['mitmproxy', (firstPort: number) => startMitmproxy({ firstPort })],
    ['squid', (firstPort: number) => startSquid({ firstPort })],
  ] as const)('%s starts on another port when the reserved one was taken meanwhile', async (_name, start) => {
    const squatter = createServer();
    const taken = await listen(squatter);
    let proxy: RealProxy | undefined;
    try {
      proxy = await start(taken);
      expect(proxy.port).not.toBe(taken);
      const theirs = await curlVia(proxy.url, 'ecdsa');
      expect(theirs.status, `${theirs.run.stdout}\n${proxy.log()}`).toBe(401);
    } finally {
      await proxy?.stop();
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
    if (proxy !== undefined && 'serviceName' in proxy) expect(squidSegments((proxy as RunningSquid).serviceName)).toEqual([]);
  });
});
