import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';
import { resolveTargets } from './targets.js';
import { TLS_REQUIREMENTS } from '../model/tls-requirements.js';

const ALL_CHECKS = ['dns', 'tcp', 'tls', 'http'];

function targetsOf(yaml: string) {
  return resolveTargets(parseConfig(yaml, 'egress.yml'));
}

const CGR_PULL = { repository: 'chainguard/static', reference: 'latest', platform: 'linux/amd64', credentials: 'anonymous', dockerConfig: null };

describe('resolveTargets', () => {
  it('probes the 13 hosts of the default chainguard catalog, in catalog order', () => {
    const targets = targetsOf('');
    expect(targets.map((t) => t.host)).toEqual([
      'cgr.dev',
      'console.chainguard.dev',
      'data.chainguard.dev',
      'console-api.enforce.dev',
      'enforce.dev',
      'dl.enforce.dev',
      'issuer.enforce.dev',
      'apk.cgr.dev',
      'virtualapk.cgr.dev',
      'packages.cgr.dev',
      'packages.wolfi.dev',
      '9236a389bd48b984df91adc1bc924620.r2.cloudflarestorage.com',
      'support.chainguard.dev',
    ]);
    for (const target of targets) {
      expect(target.source).toBe('chainguard');
      expect(target.port).toBe(443);
      expect(target.checks).toEqual(ALL_CHECKS);
      expect(target.labels).toEqual({});
      expect(target.purpose).not.toBe('');
    }
    expect(targets[0]).toEqual({
      host: 'cgr.dev',
      port: 443,
      families: ['v4'],
      checks: ALL_CHECKS,
      labels: {},
      purpose: 'Main container image registry',
      source: 'chainguard',
      http: { method: 'GET', path: '/v2/', expectStatus: [401], expectHeaders: { 'docker-distribution-api-version': 'registry/2.0' } },
      h2: true,
      // The catalog's registry: its pull runs in this target's rounds.
      registry: CGR_PULL,
      // The vendor's TLS requirements.
      tlsRequirements: TLS_REQUIREMENTS,
    });
    expect(targets.find((t) => t.host === 'packages.wolfi.dev')?.families).toEqual(['v4', 'v6']);
    expect(targets[1]).not.toHaveProperty('http');
    // The vendor requires HTTP/2 of every host.
    expect(targets.every((t) => t.h2 === true)).toBe(true);
  });

  it('takes expected issuers from a config target, and no h2 knowledge for hosts outside the catalog', () => {
    const targets = targetsOf('targets:\n  - host: cgr.dev\n    expected_issuers: [Google Trust Services]\n  - host: mirror.example\n');
    expect(targets[0]?.expectedIssuers).toEqual(['Google Trust Services']);
    expect(targets[0]?.h2).toBe(true);
    expect(targets.at(-1)).not.toHaveProperty('h2');
    expect(targets.at(-1)).not.toHaveProperty('expectedIssuers');
  });

  it('probes the 12 probeable hosts of chainguard-2024: the wildcard is skipped', () => {
    const targets = targetsOf('catalog: chainguard-2024\n');
    expect(targets).toHaveLength(12);
    expect(targets.some((t) => t.host.includes('*'))).toBe(false);
    expect(targets.every((t) => t.source === 'chainguard-2024')).toBe(true);
    expect(targets.map((t) => t.host)).toContain('9236a389bd48b984df91adc1bc924620.r2.cloudflarestorage.com');
  });

  it('drops excluded hosts', () => {
    const targets = targetsOf('exclude: [support.chainguard.dev, cgr.dev]\n');
    expect(targets).toHaveLength(11);
    expect(targets.map((t) => t.host)).not.toContain('cgr.dev');
    expect(targets.map((t) => t.host)).not.toContain('support.chainguard.dev');
    expect(targets[0]?.host).toBe('console.chainguard.dev');
  });

  it('lets a config target override a catalog host in place, keeping its purpose, source and http', () => {
    const targets = targetsOf('targets:\n  - host: cgr.dev\n    families: [v4, v6]\n    checks: [dns, tcp, tls, http]\n    labels: {team: platform}\n');
    expect(targets).toHaveLength(13);
    expect(targets[0]).toEqual({
      host: 'cgr.dev',
      port: 443,
      families: ['v4', 'v6'],
      checks: ALL_CHECKS,
      labels: { team: 'platform' },
      purpose: 'Main container image registry',
      source: 'chainguard',
      http: { method: 'GET', path: '/v2/', expectStatus: [401], expectHeaders: { 'docker-distribution-api-version': 'registry/2.0' } },
      h2: true,
      // The catalog's registry: its pull runs in this target's rounds.
      registry: CGR_PULL,
      // The vendor's TLS requirements.
      tlsRequirements: TLS_REQUIREMENTS,
    });
  });

  it('adds a registry that is not a target as one with only the pull to check, and none with registries: []', () => {
    const targets = targetsOf('catalog: none\nregistries:\n  - { host: cache.corp.example, port: 5000, repository: library/alpine }\n');
    expect(targets).toEqual([
      {
        host: 'cache.corp.example',
        port: 5000,
        families: ['v4'],
        checks: [],
        labels: {},
        purpose: 'OCI registry pull path',
        source: 'config',
        registry: { ...CGR_PULL, repository: 'library/alpine' },
        tlsRequirements: [],
      },
    ]);
    expect(targetsOf('registries: []\n').some((t) => t.registry !== undefined)).toBe(false);
  });

  it("lets a config target's http and checks replace the catalog's", () => {
    const targets = targetsOf('targets:\n  - host: cgr.dev\n    checks: [dns, http]\n    http: {method: HEAD, path: /}\n');
    expect(targets[0]?.checks).toEqual(['dns', 'http']);
    expect(targets[0]?.http).toEqual({ method: 'HEAD', path: '/' });
  });

  it('keeps the families of a catalog host a config target only adds labels to', () => {
    const targets = targetsOf('targets:\n  - host: packages.wolfi.dev\n    labels: {team: build}\n');
    const wolfi = targets.find((t) => t.host === 'packages.wolfi.dev');
    expect(wolfi?.families).toEqual(['v4', 'v6']);
    expect(wolfi?.labels).toEqual({ team: 'build' });
  });

  it('appends a config target that is not in the catalog, with source config', () => {
    const targets = targetsOf('targets:\n  - host: mirror.internal.example\n    port: 8443\n    labels: {team: platform}\n  - {host: cgr.dev, port: 8443}\n');
    expect(targets).toHaveLength(15);
    expect(targets[13]).toEqual({
      host: 'mirror.internal.example',
      port: 8443,
      families: ['v4'],
      checks: ALL_CHECKS,
      labels: { team: 'platform' },
      purpose: '',
      source: 'config',
      tlsRequirements: [],
    });
    // Same host, other port: a separate endpoint, not an override.
    expect(targets[14]).toMatchObject({ host: 'cgr.dev', port: 8443, source: 'config', purpose: '' });
    expect(targets[0]).toMatchObject({ host: 'cgr.dev', port: 443, source: 'chainguard' });
  });

  it('appends an excluded catalog host given as a config target, with source config', () => {
    const targets = targetsOf('exclude: [cgr.dev]\ntargets:\n  - host: cgr.dev\n');
    expect(targets).toHaveLength(13);
    expect(targets[12]).toMatchObject({ host: 'cgr.dev', source: 'config', purpose: '' });
    expect(targets[12]).not.toHaveProperty('http');
  });

  it('with catalog none, probes only the config targets', () => {
    const targets = targetsOf('catalog: none\ntargets:\n  - host: a.example\n  - host: "2001:db8::1"\n    checks: [tcp]\n');
    expect(targets).toEqual([
      { host: 'a.example', port: 443, families: ['v4'], checks: ALL_CHECKS, labels: {}, purpose: '', source: 'config', tlsRequirements: [] },
      { host: '2001:db8::1', port: 443, families: ['v6'], checks: ['tcp'], labels: {}, purpose: '', source: 'config', tlsRequirements: [] },
    ]);
    expect(targetsOf('catalog: none\n')).toEqual([]);
  });

  it('judges each target on the TLS requirements of whoever publishes it: the catalog for its hosts, the config for its own', () => {
    const targets = targetsOf(
      [
        'tls:',
        '  requirements: [tls13_aes_256_gcm_sha384, alpn_h2]',
        'targets:',
        '  - host: mirror.internal.example',
        '  - host: cache.internal.example',
        '    tls_requirements: []',
        '  - host: p256.internal.example',
        '    tls_requirements: [group_p256]',
        '  - host: apk.cgr.dev',
        '    labels: {team: build}',
        '  - host: cgr.dev',
        '    tls_requirements: [baseline]',
        '',
      ].join('\n'),
    );
    const of = (host: string) => targets.find((t) => t.host === host)?.tlsRequirements;
    // The config's default for its own targets; a target's own list, even an empty one, wins.
    expect(of('mirror.internal.example')).toEqual(['tls13_aes_256_gcm_sha384', 'alpn_h2']);
    expect(of('cache.internal.example')).toEqual([]);
    expect(of('p256.internal.example')).toEqual(['group_p256']);
    // A catalog host keeps the vendor's list unless the config gives it one.
    expect(of('apk.cgr.dev')).toEqual(TLS_REQUIREMENTS);
    expect(of('cgr.dev')).toEqual(['baseline']);
    expect(of('console.chainguard.dev')).toEqual(TLS_REQUIREMENTS);
    // Without tls.requirements, a target of the config's own is judged on its unconstrained handshake only.
    expect(targetsOf('targets:\n  - host: mirror.internal.example\n').at(-1)?.tlsRequirements).toEqual([]);
  });

  it('returns copies: changing a result does not change the catalog', () => {
    const first = targetsOf('');
    first[0]?.families.push('v6');
    first[0]?.checks.pop();
    expect(targetsOf('')[0]?.families).toEqual(['v4']);
    expect(targetsOf('')[0]?.checks).toEqual(ALL_CHECKS);
  });
});
