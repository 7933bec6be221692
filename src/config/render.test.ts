import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { defaultConfig, parseConfig } from './load.js';
import { renderConfig } from './render.js';
import type { Config } from './types.js';

const EXAMPLE_FILE = new URL('../../egress.example.yml', import.meta.url);

function roundTrip(config: Config): Config {
  return parseConfig(renderConfig(config), 'rendered.yml');
}

const RICH: Config = {
  catalog: 'chainguard-2024',
  intervalMs: 90_000,
  schedule: null,
  timeoutMs: 1_500,
  concurrency: 32,
  dns: {
    servers: [
      { name: '1.1.1.1:53', ip: '1.1.1.1', port: 53 },
      { name: '[2001:db8::53]:5353', ip: '2001:db8::53', port: 5353 },
    ],
    firewallRefreshIntervalMs: 3_600_000,
    allowlistCidrs: ['10.0.0.0/8', '2001:db8::/32'],
    sinkholeCidrs: ['0.0.0.0/8', '10.0.0.0/8'],
    required: false,
  },
  tls: { caFile: '/etc/ssl/private ca/corp.pem', publicCaFile: '/etc/ssl/lab/public.pem', requirementsIntervalMs: 3_600_000, requirements: ['tls13_aes_256_gcm_sha384', 'alpn_h2'] },
  metrics: { histograms: ['tcp_connect', 'http'], buckets: [0.01, 0.1, 1] },
  proxy: 'http://user:secret@proxy.internal:3128',
  proxies: [
    { name: 'zscaler', url: 'http://corp:pa55@10.0.0.1:9480', expectInterception: true },
    { name: 'squid', url: 'http://[::1]:3128', expectInterception: false },
  ],
  compareDirect: true,
  web: { allowAnyTarget: true },
  targets: [
    {
      host: 'registry.example.com',
      port: 5000,
      families: ['v4', 'v6'],
      checks: ['dns', 'tcp', 'tls', 'http'],
      labels: { team: 'platform', tier: '1', flag: 'true', note: 'a: b # c' },
      http: { method: 'HEAD', path: '/v2/?a=1#x', expectStatus: [200, 401], expectHeaders: { server: 'nginx', 'x-empty': '' } },
    },
    { host: '2001:db8::1', port: 443, families: ['v6'], checks: ['tcp'], labels: {}, expectedIssuers: ['Google Trust Services', 'Corp Root CA'], tlsRequirements: [] },
    { host: 'ghcr.io', port: 443, families: ['v4'], checks: ['dns', 'tcp', 'tls', 'http'], labels: {}, http: { method: 'GET', path: '/', expectStatus: [] }, tlsRequirements: ['sig_rsa_pss_rsae_sha256', 'group_p256'] },
  ],
  exclude: ['storage.googleapis.com', '*.r2.cloudflarestorage.com'],
  registries: [
    { host: 'cgr.dev', port: 443, repository: 'chainguard/static', reference: 'latest', platform: 'linux/amd64', credentials: 'docker_config', dockerConfig: null },
    {
      host: 'cache.example.com',
      port: 8443,
      repository: 'cgr-remote/chainguard/static',
      reference: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      platform: 'linux/arm64/v8',
      credentials: 'docker_config',
      dockerConfig: '/etc/egress/docker config.json',
    },
    { host: '10.0.0.5', port: 5000, repository: 'static', reference: '1.0', platform: 'linux/amd64', credentials: 'env', dockerConfig: null },
  ],
  feed: {
    resolvers: ['[2001:db8::53]:5353'],
    graceMs: 45_000,
    maxAddresses: 2000,
    maxBytes: 65_536,
    lists: [
      { name: 'registry', hosts: ['registry.example.com', 'ghcr.io'], labels: {}, families: ['v4'] },
      { name: 'platform-team', hosts: null, labels: { team: 'platform' }, families: ['v4', 'v6'] },
    ],
  },
};

describe('renderConfig', () => {
  it('round-trips the defaults', () => {
    expect(roundTrip(defaultConfig())).toEqual(defaultConfig());
  });

  it('round-trips a config that sets every key', () => {
    expect(roundTrip(RICH)).toEqual(RICH);
  });

  it('round-trips the example file', async () => {
    const example = parseConfig(await readFile(EXAMPLE_FILE, 'utf8'), 'egress.example.yml');
    expect(roundTrip(example)).toEqual(example);
  });

  it('writes a schedule instead of the interval', () => {
    const config: Config = { ...defaultConfig(), schedule: '*/5 * * * *', timeoutMs: 60_000 };
    const text = renderConfig(config);
    expect(text).toContain('schedule: "*/5 * * * *"');
    expect(text).not.toMatch(/^interval:/m);
    expect(roundTrip(config)).toEqual(config);
  });

  it('writes the file key names, formatted durations and no schedule when unset', () => {
    expect(renderConfig(defaultConfig())).toBe(
      [
        'catalog: chainguard',
        'interval: 30s',
        'timeout: 10s',
        'concurrency: 8',
        'dns:',
        '  servers: []',
        '  allowlist_cidrs: []',
        'tls:',
        '  ca_file: null',
        '  requirements_interval: 10m',
        '  requirements: []',
        'metrics:',
        '  histograms: []',
        '  buckets: [ 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 ]',
        'proxy: env',
        'proxies: []',
        'compare_direct: false',
        'web:',
        '  allow_any_target: false',
        'targets: []',
        'exclude: []',
        'feed:',
        '  grace: 30s',
        '  max_addresses: 5000',
        '  max_bytes: 1000000',
        '  lists: []',
        '',
      ].join('\n'),
    );
  });

  it('writes registries only when the config lists them (absent: the catalog\'s)', () => {
    expect(renderConfig(defaultConfig())).not.toContain('registries');
    expect(roundTrip({ ...defaultConfig(), registries: [] }).registries).toEqual([]);
    const text = renderConfig(RICH);
    expect(text).toContain('reference: "1.0"');
    expect(text).toContain('docker_config: /etc/egress/docker config.json');
  });

  it('writes short lists on one line', () => {
    const text = renderConfig(RICH);
    expect(text).toContain('families: [ v4, v6 ]');
    expect(text).toContain('servers: [ 1.1.1.1:53, "[2001:db8::53]:5353" ]');
  });

  it('redacts a proxy password on request only', () => {
    expect(renderConfig(RICH)).toContain('proxy: http://user:secret@proxy.internal:3128');
    const redacted = renderConfig(RICH, { redactSecrets: true });
    expect(redacted).toContain('proxy: http://user:<secret>@proxy.internal:3128');
    expect(redacted).toContain('url: http://corp:<secret>@10.0.0.1:9480');
    expect(redacted).not.toContain('pa55');
    expect(redacted).not.toContain('secret@');
  });
});
