import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, loadConfigFile, parseConfig } from './load.js';
import type { Config } from './types.js';

const EXAMPLE_FILE = new URL('../../egress.example.yml', import.meta.url);

const DEFAULTS: Config = {
  catalog: 'chainguard',
  intervalMs: 30_000,
  schedule: null,
  timeoutMs: 10_000,
  concurrency: 8,
  dns: { servers: [], firewallRefreshIntervalMs: null, allowlistCidrs: [], sinkholeCidrs: null, required: null },
  tls: { caFile: null, publicCaFile: null, requirementsIntervalMs: 600_000, requirements: [] },
  metrics: { histograms: [], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
  proxy: 'env',
  proxies: [],
  compareDirect: false,
  web: { allowAnyTarget: false },
  targets: [],
  exclude: [],
  registries: null,
  feed: { resolvers: null, graceMs: 30_000, maxAddresses: 5000, maxBytes: 1_000_000, lists: [] },
};

/** The problems parseConfig reports for `text`, or [] when it parses. */
function problemsOf(text: string, source = 'egress.yml'): string[] {
  try {
    parseConfig(text, source);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
}

// Each invalid file with the exact messages it must produce, in file order.
const INVALID: Array<{ name: string; yaml: string; problems: string[] }> = [
  // Structure
  {
    name: 'YAML syntax error',
    yaml: 'interval: 30s\ndns:\n  servers: [1.1.1.1\nproxy: env\n',
    problems: ['egress.yml: invalid YAML at line 4, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]'],
  },
  {
    name: 'duplicate key',
    yaml: 'interval: 30s\ninterval: 1m\n',
    problems: ['egress.yml: invalid YAML at line 2, column 1: Map keys must be unique'],
  },
  {
    name: 'several documents',
    yaml: 'interval: 30s\n---\ninterval: 1m\n',
    problems: ['egress.yml: invalid YAML at line 2, column 1: expected a single document, found several (---)'],
  },
  { name: 'a list at the top level', yaml: '- cgr.dev\n- ghcr.io\n', problems: ['egress.yml: expected a mapping at the top level, got a list'] },
  { name: 'a scalar at the top level', yaml: 'just text\n', problems: ['egress.yml: expected a mapping at the top level, got "just text"'] },
  { name: 'unknown top-level key', yaml: 'foo: 1\n', problems: ['egress.yml: foo: unknown key'] },
  // Proxies
  {
    name: 'proxies: bad entries',
    yaml: 'proxies:\n  - { name: Zscaler, url: "http://z:9480" }\n  - { name: squid, url: "squid:3128" }\n  - { name: squid, url: "http://s:3128", expect_interception: yes }\n  - { url: "http://x:1" }\n',
    problems: [
      "egress.yml: proxies[0].name: expected a name of up to 32 lower-case letters, digits, '.', '_' or '-', other than direct and system, got \"Zscaler\"",
      'egress.yml: proxies[1].url: expected a URL like http://proxy.example:3128, got "squid:3128"',
      'egress.yml: proxies[2].name: "squid" is listed twice',
      'egress.yml: proxies[2].expect_interception: expected true or false, got "yes"',
      'egress.yml: proxies[3].name: required',
    ],
  },
  { name: 'proxies: not a list', yaml: 'proxies: http://p:3128\n', problems: ['egress.yml: proxies: expected a list of proxies, got "http://p:3128"'] },
  { name: 'proxies: a reserved name', yaml: 'proxies:\n  - { name: direct, url: "http://p:3128" }\n', problems: ["egress.yml: proxies[0].name: expected a name of up to 32 lower-case letters, digits, '.', '_' or '-', other than direct and system, got \"direct\""] },
  { name: 'compare_direct: not a boolean', yaml: 'compare_direct: 1\n', problems: ['egress.yml: compare_direct: expected true or false, got 1'] },
  {
    name: 'expected_issuers: bad entries',
    yaml: 'targets:\n  - host: cgr.dev\n    expected_issuers: ["Google Trust Services", "", "google trust services"]\n',
    problems: [
      'egress.yml: targets[0].expected_issuers[1]: expected an issuer organisation or common name (1 to 128 characters), got ""',
      'egress.yml: targets[0].expected_issuers[2]: "google trust services" is listed twice',
    ],
  },
  { name: 'unknown key in dns', yaml: 'dns:\n  srevers: []\n', problems: ['egress.yml: dns.srevers: unknown key'] },
  { name: 'unknown key in tls', yaml: 'tls:\n  cafile: ca.pem\n', problems: ['egress.yml: tls.cafile: unknown key'] },
  {
    name: 'unknown TLS requirement names',
    yaml: 'tls:\n  requirements: [tls13_aes_256_gcm_sha384, tls13]\ntargets:\n  - host: mirror.internal\n    tls_requirements: [alpn_h2, alpn_h2, ecdsa]\n',
    problems: [
      'egress.yml: tls.requirements[1]: expected one of tls13_aes_256_gcm_sha384, tls12_ecdhe_ecdsa_aes_256_gcm_sha384, extended_master_secret, group_p256, sig_ecdsa_secp256r1_sha256, sig_rsa_pss_rsae_sha256, alpn_h2, baseline, got "tls13"',
      'egress.yml: targets[0].tls_requirements[1]: "alpn_h2" is listed twice',
      'egress.yml: targets[0].tls_requirements[2]: expected one of tls13_aes_256_gcm_sha384, tls12_ecdhe_ecdsa_aes_256_gcm_sha384, extended_master_secret, group_p256, sig_ecdsa_secp256r1_sha256, sig_rsa_pss_rsae_sha256, alpn_h2, baseline, got "ecdsa"',
    ],
  },
  { name: 'unknown key in a target', yaml: 'targets:\n  - host: cgr.dev\n    prot: 443\n', problems: ['egress.yml: targets[0].prot: unknown key'] },
  {
    name: 'unknown key in a target http',
    yaml: 'targets:\n  - host: a.example\n    http: {status: 200}\n',
    problems: ['egress.yml: targets[0].http.status: unknown key'],
  },
  { name: 'unknown key that is not a plain word', yaml: '"a.b": 1\n', problems: ['egress.yml: "a.b": unknown key'] },

  // registries
  { name: 'registries: not a list', yaml: 'registries: cgr.dev\n', problems: ['egress.yml: registries: expected a list of registries, got "cgr.dev"'] },
  { name: 'registries: an entry that is not a mapping', yaml: 'registries:\n  - cgr.dev\n', problems: ['egress.yml: registries[0]: expected a mapping with at least a host key, got "cgr.dev"'] },
  {
    name: 'registries: bad values',
    yaml: [
      'registries:',
      '  - host: https://cgr.dev/v2/',
      '    repository: Chainguard/Static',
      '    reference: "sha256:abc"',
      '    platform: linux',
      '    credentials: keychain',
      '  - host: cache.example.com',
      '    port: 0',
      '    reference: 1.0',
      '    docker_config: ""',
      '  - { repository: chainguard/static, tag: latest }',
      '',
    ].join('\n'),
    problems: [
      'egress.yml: registries[0].host: expected a host name or IP address, got "https://cgr.dev/v2/" (a URL: give only its host)',
      "egress.yml: registries[0].repository: expected a repository like chainguard/static (lower-case letters and digits, separated by /, '.', '_' or '-'), got \"Chainguard/Static\"",
      'egress.yml: registries[0].reference: expected a tag like latest or a digest like sha256:<64 hex digits>, got "sha256:abc"',
      'egress.yml: registries[0].platform: expected os/architecture[/variant] like linux/amd64, got "linux"',
      'egress.yml: registries[0].credentials: expected one of anonymous, env, docker_config, got "keychain"',
      'egress.yml: registries[1].port: expected an integer from 1 to 65535, got 0',
      'egress.yml: registries[1].reference: expected a tag like latest or a digest like sha256:<64 hex digits>, got 1 (quote it: "1")',
      'egress.yml: registries[1].docker_config: expected a file path, got ""',
      'egress.yml: registries[2].host: required',
      'egress.yml: registries[2].tag: unknown key',
    ],
  },
  {
    name: 'registries: listed twice, docker_config with other credentials',
    yaml: 'registries:\n  - { host: cgr.dev }\n  - { host: CGR.dev, port: 443 }\n  - { host: cache.example.com, credentials: env, docker_config: /etc/docker.json }\n',
    problems: ['egress.yml: registries[1]: cgr.dev:443 is listed twice', 'egress.yml: registries[2].docker_config: cannot be set when credentials is env'],
  },

  // catalog
  {
    name: 'unknown catalog',
    yaml: 'catalog: chainguard-2023\n',
    problems: ['egress.yml: catalog: expected one of chainguard, chainguard-2024, none, got "chainguard-2023"'],
  },

  // interval, schedule, timeout
  {
    name: 'interval in words',
    yaml: 'interval: 30 seconds\n',
    problems: ['egress.yml: interval: expected a duration like 30s or 1m30s, got "30 seconds"'],
  },
  { name: 'interval without a unit', yaml: 'interval: 30\n', problems: ['egress.yml: interval: expected a duration like 30s or 1m30s, got 30'] },
  { name: 'interval below 1s', yaml: 'interval: 500ms\ntimeout: 100ms\n', problems: ['egress.yml: interval: must be at least 1s, got 500ms'] },
  { name: 'interval above 1d', yaml: 'interval: 2d\n', problems: ['egress.yml: interval: must be at most 1d, got 2d'] },
  {
    name: 'schedule together with interval',
    yaml: 'interval: 30s\nschedule: "*/1 * * * *"\n',
    problems: ['egress.yml: schedule: cannot be set together with interval'],
  },
  {
    name: 'schedule with a bad field',
    yaml: 'schedule: "61 * * * *"\n',
    problems: ['egress.yml: schedule: expected a cron expression of 5 or 6 fields like "*/5 * * * *", got "61 * * * *" (invalid minute field "61")'],
  },
  {
    name: 'schedule with 4 fields',
    yaml: 'schedule: "* * * *"\n',
    problems: ['egress.yml: schedule: expected a cron expression of 5 or 6 fields like "*/5 * * * *", got "* * * *" (4 fields)'],
  },
  {
    name: 'schedule as a number',
    yaml: 'schedule: 5\n',
    problems: ['egress.yml: schedule: expected a cron expression of 5 or 6 fields like "*/5 * * * *", got 5'],
  },
  { name: 'timeout longer than interval', yaml: 'interval: 30s\ntimeout: 45s\n', problems: ['egress.yml: timeout: must be shorter than interval (30s), got 45s'] },
  { name: 'timeout equal to interval', yaml: 'interval: 1m\ntimeout: 60s\n', problems: ['egress.yml: timeout: must be shorter than interval (1m), got 1m'] },
  {
    name: 'default timeout longer than interval',
    yaml: 'interval: 5s\n',
    problems: ['egress.yml: timeout: must be shorter than interval (5s), got 10s (the default)'],
  },
  { name: 'zero timeout', yaml: 'timeout: 0s\n', problems: ['egress.yml: timeout: must be greater than 0, got 0s'] },
  {
    name: 'timeout with a fraction',
    yaml: 'timeout: 1.5s\n',
    problems: ['egress.yml: timeout: expected a duration like 30s or 1m30s, got "1.5s"'],
  },

  // concurrency
  {
    name: 'concurrency out of range or not an integer',
    yaml: 'concurrency: 0\n',
    problems: ['egress.yml: concurrency: expected an integer from 1 to 256, got 0'],
  },
  { name: 'concurrency above 256', yaml: 'concurrency: 257\n', problems: ['egress.yml: concurrency: expected an integer from 1 to 256, got 257'] },
  { name: 'concurrency as a string', yaml: 'concurrency: "8"\n', problems: ['egress.yml: concurrency: expected an integer from 1 to 256, got "8"'] },
  { name: 'concurrency with a fraction', yaml: 'concurrency: 1.5\n', problems: ['egress.yml: concurrency: expected an integer from 1 to 256, got 1.5'] },

  // dns
  { name: 'dns as a list', yaml: 'dns: [1.1.1.1]\n', problems: ['egress.yml: dns: expected a mapping, got a list'] },
  {
    name: 'dns.servers as a string',
    yaml: 'dns:\n  servers: 8.8.8.8\n',
    problems: ['egress.yml: dns.servers: expected a list of ip[:port], got "8.8.8.8"'],
  },
  {
    name: 'dns.servers with a port out of range',
    yaml: 'dns:\n  servers: [1.1.1.1, "8.8.8.8:99999"]\n',
    problems: ['egress.yml: dns.servers[1]: expected ip[:port], got "8.8.8.8:99999"'],
  },
  {
    name: 'dns.servers that are not addresses',
    yaml: 'dns:\n  servers: [dns.google, "1.1.1.1:0", "[::1", 53, "fe80::1%eth0", "010.0.0.1"]\n',
    problems: [
      'egress.yml: dns.servers[0]: expected ip[:port], got "dns.google"',
      'egress.yml: dns.servers[1]: expected ip[:port], got "1.1.1.1:0"',
      'egress.yml: dns.servers[2]: expected ip[:port], got "[::1"',
      'egress.yml: dns.servers[3]: expected ip[:port], got 53',
      'egress.yml: dns.servers[4]: expected ip[:port], got "fe80::1%eth0"',
      'egress.yml: dns.servers[5]: expected ip[:port], got "010.0.0.1"',
    ],
  },
  {
    name: 'dns.servers listing one server twice',
    yaml: 'dns:\n  servers: [8.8.8.8, "8.8.8.8:53", "::1", "[::1]:53"]\n',
    problems: ['egress.yml: dns.servers[1]: 8.8.8.8:53 is listed twice', 'egress.yml: dns.servers[3]: [::1]:53 is listed twice'],
  },
  {
    name: 'zero firewall refresh interval',
    yaml: 'dns:\n  firewall_refresh_interval: 0s\n',
    problems: ['egress.yml: dns.firewall_refresh_interval: must be greater than 0, got 0s'],
  },
  {
    name: 'allowlist entries that are not CIDRs',
    yaml: 'dns:\n  allowlist_cidrs: [10.0.0.0, 10.0.0.0/33, 300.1.1.1/8, "2001:db8::/129", 10.1.2.3/8, 10.0.0.0/8]\n',
    problems: [
      'egress.yml: dns.allowlist_cidrs[0]: expected a CIDR like 10.0.0.0/8 or 2001:db8::/32, got "10.0.0.0"',
      'egress.yml: dns.allowlist_cidrs[1]: expected a CIDR like 10.0.0.0/8 or 2001:db8::/32, got "10.0.0.0/33"',
      'egress.yml: dns.allowlist_cidrs[2]: expected a CIDR like 10.0.0.0/8 or 2001:db8::/32, got "300.1.1.1/8"',
      'egress.yml: dns.allowlist_cidrs[3]: expected a CIDR like 10.0.0.0/8 or 2001:db8::/32, got "2001:db8::/129"',
      'egress.yml: dns.allowlist_cidrs[5]: "10.0.0.0/8" is listed twice',
    ],
  },

  // tls, proxy
  { name: 'tls as a string', yaml: 'tls: ca.pem\n', problems: ['egress.yml: tls: expected a mapping, got "ca.pem"'] },
  { name: 'tls.ca_file as a number', yaml: 'tls:\n  ca_file: 42\n', problems: ['egress.yml: tls.ca_file: expected a file path, got 42'] },
  {
    name: 'proxy with another scheme',
    yaml: 'proxy: socks5://proxy:1080\n',
    problems: ['egress.yml: proxy: expected env, none or a URL like http://proxy.example:3128, got "socks5://proxy:1080"'],
  },
  {
    name: 'proxy without a port',
    yaml: 'proxy: http://proxy.internal\n',
    problems: ['egress.yml: proxy: expected env, none or a URL like http://proxy.example:3128, got "http://proxy.internal"'],
  },
  {
    name: 'proxy in capitals',
    yaml: 'proxy: ENV\n',
    problems: ['egress.yml: proxy: expected env, none or a URL like http://proxy.example:3128, got "ENV"'],
  },

  // targets
  { name: 'targets as a mapping', yaml: 'targets:\n  host: cgr.dev\n', problems: ['egress.yml: targets: expected a list of targets, got a mapping'] },
  {
    name: 'targets that are not mappings',
    yaml: 'targets:\n  - cgr.dev\n  -\n',
    problems: [
      'egress.yml: targets[0]: expected a mapping with at least a host key, got "cgr.dev"',
      'egress.yml: targets[1]: expected a mapping with at least a host key, got null',
    ],
  },
  { name: 'target without a host', yaml: 'targets:\n  - port: 443\n', problems: ['egress.yml: targets[0].host: required'] },
  {
    name: 'target hosts that are not host names',
    yaml: 'targets:\n  - host: https://cgr.dev/\n  - host: cgr.dev:443\n  - host: "*.cgr.dev"\n  - host: my_host.example\n  - host: 1.2.3\n  - host: 443\n  - host: cgr.dev/v2/\n',
    problems: [
      'egress.yml: targets[0].host: expected a host name or IP address, got "https://cgr.dev/" (a URL: give only its host)',
      'egress.yml: targets[1].host: expected a host name or IP address, got "cgr.dev:443" (put the port in port:)',
      'egress.yml: targets[2].host: expected a host name or IP address, got "*.cgr.dev" (wildcards cannot be probed)',
      'egress.yml: targets[3].host: expected a host name or IP address, got "my_host.example"',
      'egress.yml: targets[4].host: expected a host name or IP address, got "1.2.3"',
      'egress.yml: targets[5].host: expected a host name or IP address, got 443',
      'egress.yml: targets[6].host: expected a host name or IP address, got "cgr.dev/v2/" (give only the host, no path)',
    ],
  },
  {
    name: 'target ports out of range',
    yaml: 'targets:\n  - {host: a.example, port: 0}\n  - {host: b.example, port: 70000}\n  - {host: c.example, port: "443"}\n',
    problems: [
      'egress.yml: targets[0].port: expected an integer from 1 to 65535, got 0',
      'egress.yml: targets[1].port: expected an integer from 1 to 65535, got 70000',
      'egress.yml: targets[2].port: expected an integer from 1 to 65535, got "443"',
    ],
  },
  {
    name: 'target families',
    yaml:
      'targets:\n  - {host: a.example, families: v4}\n  - {host: b.example, families: []}\n  - {host: c.example, families: [ipv4]}\n' +
      '  - {host: d.example, families: [v4, v4]}\n  - {host: 10.0.0.1, families: [v4, v6]}\n  - {host: "[2001:db8::1]", families: [v4]}\n',
    problems: [
      'egress.yml: targets[0].families: expected a non-empty list of v4, v6, got "v4"',
      'egress.yml: targets[1].families: expected a non-empty list of v4, v6, got an empty list',
      'egress.yml: targets[2].families[0]: expected one of v4, v6, got "ipv4"',
      'egress.yml: targets[3].families[1]: "v4" is listed twice',
      'egress.yml: targets[4].families: expected [v4] for an IPv4 address, got [v4, v6]',
      'egress.yml: targets[5].families: expected [v6] for an IPv6 address, got [v4]',
    ],
  },
  {
    name: 'target checks',
    yaml: 'targets:\n  - {host: a.example, checks: []}\n  - {host: b.example, checks: [icmp]}\n  - {host: c.example, checks: [dns, dns]}\n',
    problems: [
      'egress.yml: targets[0].checks: expected a non-empty list of dns, tcp, tls, http, got an empty list',
      'egress.yml: targets[1].checks[0]: expected one of dns, tcp, tls, http, got "icmp"',
      'egress.yml: targets[2].checks[1]: "dns" is listed twice',
    ],
  },
  {
    name: 'target labels',
    yaml:
      'targets:\n  - host: a.example\n    labels: [team]\n  - host: b.example\n' +
      `    labels: {"0team": x, __name__: y, job: z, team: 1, tier: true, note: null, long: "${'x'.repeat(129)}"}\n`,
    problems: [
      'egress.yml: targets[0].labels: expected a mapping of label names to strings, got a list',
      'egress.yml: targets[1].labels: expected a label name matching ^[a-zA-Z_][a-zA-Z0-9_]*$, got "0team"',
      'egress.yml: targets[1].labels: expected a label name not starting with __, got "__name__"',
      'egress.yml: targets[1].labels: expected a label name other than host, check, path, reason, resolver, family, type, phase, requirement, instance, job, got "job"',
      'egress.yml: targets[1].labels.team: expected a string of at most 128 characters, got 1 (quote it: "1")',
      'egress.yml: targets[1].labels.tier: expected a string of at most 128 characters, got true (quote it: "true")',
      'egress.yml: targets[1].labels.note: expected a string of at most 128 characters, got null',
      'egress.yml: targets[1].labels.long: expected a string of at most 128 characters, got 129 characters',
    ],
  },
  {
    name: 'target http',
    yaml:
      'targets:\n  - host: a.example\n    http: {method: DELETE, path: "https://a.example/", expect_status: 200, expect_headers: [x]}\n' +
      '  - host: b.example\n    http: {path: "/a b", expect_status: ["200", 99, 204, 204], expect_headers: {"bad header": x, Server: 1, server: nginx}}\n' +
      '  - host: c.example\n    http: /healthz\n',
    problems: [
      'egress.yml: targets[0].http.method: expected one of GET, HEAD, OPTIONS, got "DELETE"',
      'egress.yml: targets[0].http.path: expected a path starting with /, got "https://a.example/"',
      'egress.yml: targets[0].http.expect_status: expected a list of status codes, got 200',
      'egress.yml: targets[0].http.expect_headers: expected a mapping of header names to values, got a list',
      'egress.yml: targets[1].http.path: expected a path starting with /, got "/a b"',
      'egress.yml: targets[1].http.expect_status[0]: expected an integer from 100 to 599, got "200"',
      'egress.yml: targets[1].http.expect_status[1]: expected an integer from 100 to 599, got 99',
      'egress.yml: targets[1].http.expect_status[3]: 204 is listed twice',
      'egress.yml: targets[1].http.expect_headers: expected a header name, got "bad header"',
      'egress.yml: targets[1].http.expect_headers.Server: expected a string, got 1 (quote it: "1")',
      'egress.yml: targets[1].http.expect_headers: "Server" and "server" name the same header',
      'egress.yml: targets[2].http: expected a mapping, got "/healthz"',
    ],
  },
  {
    name: 'target http without the http check',
    yaml: 'targets:\n  - {host: a.example, checks: [dns, tcp], http: {path: /}}\n',
    problems: ['egress.yml: targets[0].http: cannot be set when checks does not include http'],
  },
  {
    name: 'duplicate targets, after normalisation',
    yaml: 'targets:\n  - host: cgr.dev\n  - host: CGR.dev.\n  - {host: cgr.dev, port: 8443}\n  - {host: "::1"}\n  - {host: "[::1]"}\n',
    problems: ['egress.yml: targets[1]: cgr.dev:443 is listed twice', 'egress.yml: targets[4]: [::1]:443 is listed twice'],
  },

  // exclude
  { name: 'exclude as a string', yaml: 'exclude: cgr.dev\n', problems: ['egress.yml: exclude: expected a list of host names, got "cgr.dev"'] },
  {
    name: 'exclude of a host not in the catalog',
    yaml: 'exclude: [example.com]\n',
    problems: ['egress.yml: exclude[0]: "example.com" is not a host of catalog chainguard'],
  },
  {
    name: 'exclude with catalog none',
    yaml: 'catalog: none\nexclude: [cgr.dev]\n',
    problems: ['egress.yml: exclude[0]: "cgr.dev" is not a host of catalog none'],
  },
  {
    name: 'exclude of a host of another catalog',
    yaml: 'catalog: chainguard-2024\nexclude: [support.chainguard.dev, "*.r2.cloudflarestorage.com"]\n',
    problems: ['egress.yml: exclude[0]: "support.chainguard.dev" is not a host of catalog chainguard-2024'],
  },
  {
    name: 'exclude entries repeated or not names',
    yaml: 'exclude: [cgr.dev, CGR.DEV., 7, "", nope.example]\n',
    problems: [
      'egress.yml: exclude[1]: "cgr.dev" is listed twice',
      'egress.yml: exclude[2]: expected a host name, got 7',
      'egress.yml: exclude[3]: expected a host name, got ""',
      'egress.yml: exclude[4]: "nope.example" is not a host of catalog chainguard',
    ],
  },

  // Everything at once, in file order
  {
    name: 'several problems at once',
    yaml: [
      'catalog: nope',
      'interval: 1s',
      'timeout: 2s',
      'concurrency: -1',
      'foo: bar',
      'dns:',
      '  servers: [x]',
      '  bar: 1',
      'targets:',
      '  - {host: "https://x", prot: 1}',
      'exclude: [cgr.dev]',
      'schedule: "* * *"',
      '',
    ].join('\n'),
    problems: [
      'egress.yml: catalog: expected one of chainguard, chainguard-2024, none, got "nope"',
      // Not hidden by the schedule's own problems: the interval is set, and timeout answers to it.
      'egress.yml: timeout: must be shorter than interval (1s), got 2s',
      'egress.yml: concurrency: expected an integer from 1 to 256, got -1',
      'egress.yml: foo: unknown key',
      'egress.yml: dns.servers[0]: expected ip[:port], got "x"',
      'egress.yml: dns.bar: unknown key',
      'egress.yml: targets[0].host: expected a host name or IP address, got "https://x" (a URL: give only its host)',
      'egress.yml: targets[0].prot: unknown key',
      'egress.yml: schedule: expected a cron expression of 5 or 6 fields like "*/5 * * * *", got "* * *" (3 fields)',
      'egress.yml: schedule: cannot be set together with interval',
    ],
  },
  {
    name: 'cross-key checks still run next to other problems',
    yaml: 'dns:\n  srevers: []\ninterval: 30s\ntimeout: 45s\nexclude: [example.com]\n',
    problems: [
      'egress.yml: dns.srevers: unknown key',
      'egress.yml: timeout: must be shorter than interval (30s), got 45s',
      'egress.yml: exclude[0]: "example.com" is not a host of catalog chainguard',
    ],
  },
];

describe('parseConfig: invalid files', () => {
  it.each(INVALID)('$name', ({ yaml, problems }) => {
    expect(problemsOf(yaml)).toEqual(problems);
  });

  it('throws a ConfigError whose message is every problem, one per line', () => {
    let caught: unknown;
    try {
      parseConfig('foo: 1\nconcurrency: 0\n', 'conf/egress.yml');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.problems).toEqual(['conf/egress.yml: foo: unknown key', 'conf/egress.yml: concurrency: expected an integer from 1 to 256, got 0']);
    expect(error.message).toBe(error.problems.join('\n'));
    expect(error.code).toBe('EGRESS_CONFIG_INVALID');
  });

  it('names the source in every message', () => {
    expect(problemsOf('foo: 1\n', '/etc/egress/egress.yml')).toEqual(['/etc/egress/egress.yml: foo: unknown key']);
  });
});

describe('parseConfig: defaults', () => {
  it.each([
    ['an empty file', ''],
    ['a file with only comments', '# nothing here\n  # nor here\n'],
    ['an empty mapping', '{}\n'],
    ['sections with every key commented out', 'dns:\n  # servers: []\ntls:\ntargets:\nexclude:\nschedule:\n'],
  ])('%s gives the defaults', (_, text) => {
    expect(parseConfig(text, 'egress.yml')).toEqual(DEFAULTS);
  });

  it('defaultConfig() is the configuration of an empty file, a fresh copy each time', () => {
    const config = defaultConfig();
    expect(config).toEqual(DEFAULTS);
    config.targets.push({ host: 'x.example', port: 443, families: ['v4'], checks: ['dns'], labels: {} });
    expect(defaultConfig()).toEqual(DEFAULTS);
  });

  it('applies the defaults of a target and of its http section', () => {
    const config = parseConfig('targets:\n  - host: a.example\n  - host: b.example\n    http: {}\n', 'egress.yml');
    expect(config.targets).toEqual([
      { host: 'a.example', port: 443, families: ['v4'], checks: ['dns', 'tcp', 'tls', 'http'], labels: {} },
      { host: 'b.example', port: 443, families: ['v4'], checks: ['dns', 'tcp', 'tls', 'http'], labels: {}, http: { method: 'GET', path: '/' } },
    ]);
  });
});

describe('parseConfig: valid values', () => {
  it('converts durations and keeps the schedule', () => {
    const config = parseConfig('schedule: "0 */5 * * * *"\ntimeout: 2m\ndns:\n  firewall_refresh_interval: 1h30m\n', 'egress.yml');
    expect(config.schedule).toBe('0 */5 * * * *');
    expect(config.intervalMs).toBe(30_000);
    expect(config.timeoutMs).toBe(120_000);
    expect(config.dns.firewallRefreshIntervalMs).toBe(5_400_000);
  });

  it('normalises DNS servers, with port 53 by default', () => {
    const config = parseConfig('dns:\n  servers: [8.8.8.8, "9.9.9.9:5353", "[2001:DB8:0::1]", "::1", "[::1]:5353"]\n', 'egress.yml');
    expect(config.dns.servers).toEqual([
      { name: '8.8.8.8:53', ip: '8.8.8.8', port: 53 },
      { name: '9.9.9.9:5353', ip: '9.9.9.9', port: 5353 },
      { name: '[2001:db8::1]:53', ip: '2001:db8::1', port: 53 },
      { name: '[::1]:53', ip: '::1', port: 53 },
      { name: '[::1]:5353', ip: '::1', port: 5353 },
    ]);
  });

  it('normalises allowlist CIDRs to their network address', () => {
    const config = parseConfig('dns:\n  allowlist_cidrs: [104.16.1.1/13, "2001:DB8:0:0::1/32", 0.0.0.0/0]\n', 'egress.yml');
    expect(config.dns.allowlistCidrs).toEqual(['104.16.0.0/13', '2001:db8::/32', '0.0.0.0/0']);
  });

  it('normalises hosts, families, checks, methods and header names', () => {
    const text = [
      'targets:',
      '  - host: Registry.Example.COM.',
      '    families: [v6, v4]',
      '    checks: [http, dns]',
      '    labels: {team: platform, empty: ""}',
      '    http: {method: head, path: "/v2/?x=1", expect_status: [401, 200], expect_headers: {Docker-Distribution-Api-Version: registry/2.0}}',
      '  - host: "[2001:DB8::1]"',
      '  - host: 10.0.0.1',
      '    port: 8443',
      '',
    ].join('\n');
    expect(parseConfig(text, 'egress.yml').targets).toEqual([
      {
        host: 'registry.example.com',
        port: 443,
        families: ['v4', 'v6'],
        checks: ['dns', 'http'],
        labels: { team: 'platform', empty: '' },
        http: { method: 'HEAD', path: '/v2/?x=1', expectStatus: [401, 200], expectHeaders: { 'docker-distribution-api-version': 'registry/2.0' } },
      },
      { host: '2001:db8::1', port: 443, families: ['v6'], checks: ['dns', 'tcp', 'tls', 'http'], labels: {} },
      { host: '10.0.0.1', port: 8443, families: ['v4'], checks: ['dns', 'tcp', 'tls', 'http'], labels: {} },
    ]);
  });

  it("takes a catalog host's families as the default of a target that overrides it", () => {
    const config = parseConfig('targets:\n  - host: packages.wolfi.dev\n  - {host: packages.wolfi.dev, port: 8443}\n', 'egress.yml');
    expect(config.targets.map((t) => t.families)).toEqual([['v4', 'v6'], ['v4']]);
  });

  it('normalises excluded hosts and accepts a catalog wildcard', () => {
    expect(parseConfig('exclude: [CGR.dev.]\n', 'egress.yml').exclude).toEqual(['cgr.dev']);
    expect(parseConfig('catalog: chainguard-2024\nexclude: ["*.r2.cloudflarestorage.com"]\n', 'egress.yml').exclude).toEqual(['*.r2.cloudflarestorage.com']);
  });

  it('accepts proxy URLs with credentials and IPv6 hosts', () => {
    for (const proxy of ['none', 'env', 'http://proxy.internal:3128', 'https://user:p%40ss@proxy.internal:8443/', 'http://[::1]:3128']) {
      expect(parseConfig(`proxy: "${proxy}"\n`, 'egress.yml').proxy).toBe(proxy);
    }
  });
});

describe('parseConfig: registries', () => {
  it('absent: null, the catalog decides; a list: its entries, with defaults', () => {
    expect(parseConfig('', 'egress.yml').registries).toBeNull();
    expect(parseConfig('registries: []\n', 'egress.yml').registries).toEqual([]);
    const config = parseConfig(
      [
        'registries:',
        '  - host: cgr.dev',
        '  - host: Cache.Example.com',
        '    port: 8443',
        '    repository: cgr-remote/chainguard/static',
        '    reference: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
        '    platform: linux/arm64/v8',
        '    docker_config: docker/config.json',
        '  - { host: 10.0.0.5, port: 5000, repository: static, reference: "1.0", credentials: env }',
        '  - { host: ghcr.io, credentials: docker_config }',
        '',
      ].join('\n'),
      'egress.yml',
    );
    expect(config.registries).toEqual([
      { host: 'cgr.dev', port: 443, repository: 'chainguard/static', reference: 'latest', platform: 'linux/amd64', credentials: 'anonymous', dockerConfig: null },
      {
        host: 'cache.example.com',
        port: 8443,
        repository: 'cgr-remote/chainguard/static',
        reference: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
        platform: 'linux/arm64/v8',
        credentials: 'docker_config',
        dockerConfig: 'docker/config.json',
      },
      { host: '10.0.0.5', port: 5000, repository: 'static', reference: '1.0', platform: 'linux/amd64', credentials: 'env', dockerConfig: null },
      { host: 'ghcr.io', port: 443, repository: 'chainguard/static', reference: 'latest', platform: 'linux/amd64', credentials: 'docker_config', dockerConfig: null },
    ]);
  });
});

describe('the example file', () => {
  it('parses, and shows a custom target, an override, DNS servers and an allowlist', async () => {
    const config = parseConfig(await readFile(EXAMPLE_FILE, 'utf8'), 'egress.example.yml');
    expect(config).toEqual({
      ...DEFAULTS,
      dns: {
        servers: [
          { name: '1.1.1.1:53', ip: '1.1.1.1', port: 53 },
          { name: '8.8.8.8:53', ip: '8.8.8.8', port: 53 },
          { name: '[2606:4700:4700::1111]:53', ip: '2606:4700:4700::1111', port: 53 },
        ],
        firewallRefreshIntervalMs: 300_000,
        allowlistCidrs: ['104.16.0.0/13', '2606:4700::/32'],
        sinkholeCidrs: null,
        required: null,
      },
      tls: { ...DEFAULTS.tls, requirements: ['tls13_aes_256_gcm_sha384', 'alpn_h2'] },
      metrics: { histograms: ['tcp_connect'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
      proxies: [
        { name: 'corp', url: 'http://proxy.internal.example:3128', expectInterception: false },
        { name: 'zscaler', url: 'http://zscaler.internal.example:9480', expectInterception: true },
      ],
      targets: [
        {
          host: 'registry-mirror.internal.example',
          port: 443,
          families: ['v4', 'v6'],
          checks: ['dns', 'tcp', 'tls', 'http'],
          labels: { team: 'platform', env: 'prod' },
          http: { method: 'GET', path: '/v2/', expectStatus: [200, 401], expectHeaders: { 'docker-distribution-api-version': 'registry/2.0' } },
          expectedIssuers: ['Example Internal CA'],
          privateCa: true,
          tlsRequirements: ['tls13_aes_256_gcm_sha384'],
        },
        { host: 'cgr.dev', port: 443, families: ['v4'], checks: ['dns', 'tcp', 'tls'], labels: { team: 'platform' } },
        {
          host: '10.20.30.40',
          port: 8443,
          serverName: 'health.internal.example',
          families: ['v4'],
          checks: ['tcp', 'tls', 'http'],
          labels: {},
          http: { method: 'GET', path: '/health', expectStatus: [200], headers: { 'x-api-key': 'change-me', accept: 'application/json' }, expectBody: '"status":"UP"' },
        },
        { host: 'gambling-canary.example', port: 443, families: ['v4'], checks: ['dns', 'tcp', 'tls', 'http'], labels: {}, expect: 'blocked' },
      ],
      exclude: ['support.chainguard.dev'],
      registries: [{ host: 'cgr.dev', port: 443, repository: 'chainguard/static', reference: 'latest', platform: 'linux/amd64', credentials: 'anonymous', dockerConfig: null }],
      feed: {
        resolvers: ['1.1.1.1:53'],
        graceMs: 30_000,
        maxAddresses: 5000,
        maxBytes: 1_000_000,
        lists: [
          { name: 'chainguard', hosts: ['cgr.dev', 'apk.cgr.dev', 'packages.wolfi.dev'], labels: {}, families: ['v4'] },
          { name: 'platform', hosts: null, labels: { team: 'platform' }, families: ['v4', 'v6'] },
        ],
      },
    });
  });
});

describe('loadConfigFile', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'egress-config-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function problemsOfFile(path: string): Promise<string[]> {
    try {
      await loadConfigFile(path);
      return [];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.problems;
    }
  }

  it('reads and parses a file, naming it in messages', async () => {
    const path = join(dir, 'good.yml');
    await writeFile(path, 'interval: 1m\n');
    expect((await loadConfigFile(path)).intervalMs).toBe(60_000);

    const bad = join(dir, 'bad.yml');
    await writeFile(bad, 'interval: 1 minute\n');
    expect(await problemsOfFile(bad)).toEqual([`${bad}: interval: expected a duration like 30s or 1m30s, got "1 minute"`]);
  });

  it('reports a missing file with its path', async () => {
    const path = join(dir, 'missing.yml');
    expect(await problemsOfFile(path)).toEqual([`${path}: cannot read the config file: no such file or directory (ENOENT)`]);
  });

  it('reports a directory given as the file', async () => {
    expect(await problemsOfFile(dir)).toEqual([`${dir}: cannot read the config file: is a directory (EISDIR)`]);
  });

  it('resolves a relative tls.ca_file against the config file directory and checks it holds PEM', async () => {
    await mkdir(join(dir, 'certs'), { recursive: true });
    await writeFile(join(dir, 'certs', 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const path = join(dir, 'with-ca.yml');
    await writeFile(path, 'tls:\n  ca_file: certs/ca.pem\n');
    expect((await loadConfigFile(path)).tls.caFile).toBe(join(dir, 'certs', 'ca.pem'));
  });

  it('reports a missing tls.ca_file with its path', async () => {
    const path = join(dir, 'missing-ca.yml');
    const caFile = join(dir, 'nope', 'ca.pem');
    await writeFile(path, `tls:\n  ca_file: ${caFile}\n`);
    expect(await problemsOfFile(path)).toEqual([`${path}: tls.ca_file: cannot read "${caFile}": no such file or directory (ENOENT)`]);
  });

  it('reports an unreadable tls.ca_file (a directory) with its path', async () => {
    const path = join(dir, 'dir-ca.yml');
    await writeFile(path, 'tls:\n  ca_file: certs\n');
    expect(await problemsOfFile(path)).toEqual([`${path}: tls.ca_file: cannot read "${join(dir, 'certs')}": is a directory (EISDIR)`]);
  });

  it('resolves a relative docker_config against the config file directory, without reading it', async () => {
    const path = join(dir, 'with-registry.yml');
    await writeFile(path, 'registries:\n  - { host: cgr.dev, docker_config: secrets/config.json }\n  - { host: ghcr.io, credentials: docker_config }\n');
    const registries = (await loadConfigFile(path)).registries;
    expect(registries?.map((r) => r.dockerConfig)).toEqual([join(dir, 'secrets', 'config.json'), null]);
  });

  it('reports a tls.ca_file without PEM certificates', async () => {
    const caFile = join(dir, 'not-pem.der');
    await writeFile(caFile, Buffer.from([0x30, 0x82, 0x01, 0x0a]));
    const path = join(dir, 'der-ca.yml');
    await writeFile(path, `tls:\n  ca_file: ${caFile}\n`);
    expect(await problemsOfFile(path)).toEqual([`${path}: tls.ca_file: expected PEM certificates (-----BEGIN CERTIFICATE-----), got none in "${caFile}"`]);
  });
});
