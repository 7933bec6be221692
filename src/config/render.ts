// The effective config as YAML, in the file's own key names, so that
// `--config.check` prints something that can be pasted back as a config file:
// parseConfig(renderConfig(c)) deep-equals c.
import { Document, isScalar, isSeq, visit } from 'yaml';
import { formatDuration } from './duration.js';
import { hostPort } from '../host-port.js';
import type { Target } from '../model/types.js';
import { renderFeed } from './feed.js';
import type { Config, RegistryConfig, TargetConfig } from './types.js';

export interface RenderOptions {
  /** Replace the password of a proxy URL, and the values of credential-like request headers, with `<secret>` (for /config pages and logs). */
  redactSecrets?: boolean;
}

export function redactProxy(proxy: string): string {
  return proxy.replace(/^(https?:\/\/[^:@/]*:)[^@/]*@/, '$1<secret>@');
}

/**
 * Request headers that carry credentials, by name: their values print as `<secret>` where
 * secrets are redacted (--config.check, the config hash).
 */
const SECRET_HEADER_RE = /authorization|cookie|token|secret|password|passwd|api-?key|auth/;

function renderHeaders(headers: Readonly<Record<string, string>>, redact: boolean): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, redact && SECRET_HEADER_RE.test(name) ? '<secret>' : value]));
}

function renderTarget(target: TargetConfig, options: RenderOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {
    host: target.host,
    port: target.port,
    ...(target.serverName !== undefined && { server_name: target.serverName }),
    families: target.families,
    checks: target.checks,
    labels: target.labels,
  };
  if (target.http !== undefined) {
    const http: Record<string, unknown> = { method: target.http.method, path: target.http.path };
    if (target.http.expectStatus !== undefined) http.expect_status = target.http.expectStatus;
    if (target.http.expectHeaders !== undefined) http.expect_headers = target.http.expectHeaders;
    if (target.http.headers !== undefined) http.headers = renderHeaders(target.http.headers, options.redactSecrets === true);
    if (target.http.expectBody !== undefined) http.expect_body = target.http.expectBody;
    out.http = http;
  }
  if (target.expectedIssuers !== undefined) out.expected_issuers = target.expectedIssuers;
  if (target.privateCa === true) out.private_ca = true;
  if (target.tlsRequirements !== undefined) out.tls_requirements = target.tlsRequirements;
  if (target.expect !== undefined) out.expect = typeof target.expect === 'string' ? target.expect : { ...target.expect };
  return out;
}

function renderRegistry(registry: RegistryConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {
    host: registry.host,
    port: registry.port,
    repository: registry.repository,
    reference: registry.reference,
    platform: registry.platform,
    credentials: registry.credentials,
  };
  if (registry.dockerConfig !== null) out.docker_config = registry.dockerConfig;
  return out;
}

export function renderConfig(config: Config, options: RenderOptions = {}): string {
  const file: Record<string, unknown> = { catalog: config.catalog };
  // interval and schedule are exclusive; intervalMs is meaningless with a schedule.
  if (config.schedule === null) file.interval = formatDuration(config.intervalMs);
  else file.schedule = config.schedule;
  file.timeout = formatDuration(config.timeoutMs);
  file.concurrency = config.concurrency;
  file.dns = {
    servers: config.dns.servers.map((server) => server.name),
    ...(config.dns.firewallRefreshIntervalMs === null ? {} : { firewall_refresh_interval: formatDuration(config.dns.firewallRefreshIntervalMs) }),
    allowlist_cidrs: config.dns.allowlistCidrs,
    ...(config.dns.sinkholeCidrs === null ? {} : { sinkhole_cidrs: config.dns.sinkholeCidrs }),
    ...(config.dns.required === null ? {} : { required: config.dns.required }),
  };
  file.tls = { ca_file: config.tls.caFile, ...(config.tls.publicCaFile === null ? {} : { public_ca_file: config.tls.publicCaFile }), requirements_interval: formatDuration(config.tls.requirementsIntervalMs), requirements: config.tls.requirements };
  file.metrics = { histograms: config.metrics.histograms, buckets: config.metrics.buckets };
  const secret = (url: string): string => (options.redactSecrets === true ? redactProxy(url) : url);
  file.proxy = secret(config.proxy);
  file.proxies = config.proxies.map((p) => ({ name: p.name, url: secret(p.url), expect_interception: p.expectInterception }));
  file.compare_direct = config.compareDirect;
  file.web = { allow_any_target: config.web.allowAnyTarget };
  file.targets = config.targets.map((target) => renderTarget(target, options));
  file.exclude = config.exclude;
  // Absent: the catalog's registries.
  if (config.registries !== null) file.registries = config.registries.map(renderRegistry);
  file.feed = renderFeed(config.feed);

  const doc = new Document(file);
  // Short lists of scalars read best on one line: `families: [v4, v6]`.
  visit(doc, {
    Seq(_, node) {
      if (isSeq(node) && node.items.every((item) => isScalar(item))) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/** `; must stay blocked` (on every path) or `; must stay blocked on direct, corp`; empty for a target whose paths must all work. */
function blockedNote(t: Target): string {
  if (t.expect === undefined || t.expect === 'reachable') return '';
  if (t.expect === 'blocked') return '; must stay blocked';
  const paths = Object.entries(t.expect).filter(([, e]) => e === 'blocked').map(([path]) => path);
  return paths.length === 0 ? '' : `; must stay blocked on ${paths.join(', ')}`;
}

/**
 * Every target the config resolves to (its catalog's hosts and its own), with where it
 * came from, its checks and the TLS requirements it is judged on, as YAML comments: what
 * `--config.check` prints after the config, which stays a config file one can paste back.
 */
export function renderEffectiveTargets(targets: readonly Target[]): string {
  const lines = ['# The targets this config probes, and the TLS requirements each is judged on:'];
  for (const t of targets) {
    const tls = !t.checks.includes('tls') ? 'no tls check' : t.tlsRequirements === undefined || t.tlsRequirements.length === 0 ? 'the unconstrained handshake only' : t.tlsRequirements.join(', ');
    const checks = [...t.checks, ...(t.registry !== undefined ? ['registry'] : [])].join(', ');
    lines.push(`#   ${hostPort(t.host, t.port)} (${t.source}; ${checks || 'no checks'}): tls requirements: ${tls}${blockedNote(t)}`);
  }
  return `${lines.join('\n')}\n`;
}
