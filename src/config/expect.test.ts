// `targets[].expect`: which paths of a target must work and which must stay blocked.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load.js';
import { renderConfig, renderEffectiveTargets } from './render.js';
import { resolveTargets } from './targets.js';

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'egress.yml');
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
}

const PROXIES = 'catalog: none\nproxies:\n  - { name: corp, url: "http://192.0.2.3:3128" }\n';

describe('targets[].expect', () => {
  it('reads one expectation for every path, or one per path name; a path not named must work', () => {
    const config = parseConfig(
      `${PROXIES}compare_direct: true\ntargets:\n  - { host: canary.example, expect: blocked }\n  - { host: cgr.dev, expect: { direct: blocked, corp: reachable } }\n  - { host: ok.example }\n`,
      'egress.yml',
    );
    expect(config.targets.map((t) => t.expect)).toEqual(['blocked', { direct: 'blocked', corp: 'reachable' }, undefined]);
  });

  it('reports each wrong value, and each path the config does not probe, exactly', () => {
    expect(problemsOf(`catalog: none\nproxy: none\ntargets:\n  - { host: a.example, expect: deny }\n  - { host: b.example, expect: [blocked] }\n  - { host: c.example, expect: {} }\n`)).toEqual([
      'egress.yml: targets[0].expect: expected one of reachable, blocked, got "deny"',
      'egress.yml: targets[1].expect: expected reachable, blocked, or a mapping of path names (direct, proxy, a name from proxies) to one of them, got a list',
      'egress.yml: targets[2].expect: expected reachable, blocked, or a mapping of path names (direct, proxy, a name from proxies) to one of them, got an empty mapping',
    ]);
    expect(problemsOf(`catalog: none\nproxy: none\ntargets:\n  - { host: a.example, expect: { direct: maybe, proxy: blocked } }\n`)).toEqual([
      'egress.yml: targets[0].expect.direct: expected one of reachable, blocked, got "maybe"',
    ]);
    expect(problemsOf(`catalog: none\nproxy: none\ntargets:\n  - { host: a.example, expect: { proxy: blocked } }\n`)).toEqual([
      'egress.yml: targets[0].expect.proxy: "proxy" is not a path this config probes (paths: direct)',
    ]);
    expect(problemsOf(`${PROXIES}targets:\n  - { host: a.example, expect: { direct: blocked, filter: blocked } }\n`)).toEqual([
      'egress.yml: targets[0].expect.direct: "direct" is not a path this config probes (paths: corp): set compare_direct: true to probe it',
      'egress.yml: targets[0].expect.filter: "filter" is not a path this config probes (paths: corp)',
    ]);
    // proxy: env goes direct or through the proxy, host by host: both names are paths.
    expect(problemsOf(`catalog: none\ntargets:\n  - { host: a.example, expect: { direct: blocked, proxy: reachable } }\n`)).toEqual([]);
  });

  it('prints back as it was read, and --config.check names what must stay blocked', () => {
    const config = parseConfig(`${PROXIES}compare_direct: true\ntargets:\n  - { host: canary.example, expect: blocked }\n  - { host: cgr.dev, port: 8443, expect: { direct: blocked } }\n`, 'egress.yml');
    expect(parseConfig(renderConfig(config), 'again.yml')).toEqual(config);
    expect(renderEffectiveTargets(resolveTargets(config))).toContain('#   canary.example:443 (config; dns, tcp, tls, http): tls requirements: the unconstrained handshake only; must stay blocked\n');
    expect(renderEffectiveTargets(resolveTargets(config))).toContain('#   cgr.dev:8443 (config; dns, tcp, tls, http): tls requirements: the unconstrained handshake only; must stay blocked on direct\n');
  });

  it('overrides a catalog host: its direct path must stay blocked, the proxy must work', () => {
    const config = parseConfig(`proxy: http://192.0.2.3:3128\ncompare_direct: true\ntargets:\n  - { host: cgr.dev, expect: { direct: blocked } }\n`, 'egress.yml');
    const cgr = resolveTargets(config).find((t) => t.host === 'cgr.dev');
    expect(cgr).toMatchObject({ source: 'chainguard', expect: { direct: 'blocked' } });
  });
});
