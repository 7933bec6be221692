import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import type { Target } from '../model/types.js';
import { pathsFor } from './paths.js';

const target: Target = { host: 'cgr.dev', port: 443, families: ['v4'], checks: ['tcp'], labels: {}, purpose: '', source: 'test' };
const config = (over: Partial<Config>): Config => ({ ...defaultConfig(), ...over });
const names = (c: Config, env: NodeJS.ProcessEnv = {}, t: Target = target) =>
  pathsFor(t, c, env).map((p) => `${p.name}${p.proxy ? ` ${p.proxy.url.host}` : ''}`);

describe('pathsFor', () => {
  it('goes direct with proxy: none, or with proxy: env and no proxy variable', () => {
    expect(names(config({ proxy: 'none' }), { HTTPS_PROXY: 'http://p:3128' })).toEqual(['direct']);
    expect(names(config({ proxy: 'env' }), {})).toEqual(['direct']);
  });

  it('follows HTTPS_PROXY, and NO_PROXY per host', () => {
    expect(names(config({ proxy: 'env' }), { HTTPS_PROXY: 'http://p:3128' })).toEqual(['proxy p:3128']);
    expect(names(config({ proxy: 'env' }), { https_proxy: 'p:3128' })).toEqual(['proxy p:3128']);
    expect(names(config({ proxy: 'env' }), { HTTPS_PROXY: 'http://p:3128', NO_PROXY: '.cgr.dev' })).toEqual(['direct']);
    expect(names(config({ proxy: 'env' }), { HTTPS_PROXY: 'http://p:3128', NO_PROXY: 'enforce.dev' })).toEqual(['proxy p:3128']);
  });

  it('uses a proxy URL whatever the environment says, and adds direct with compare_direct', () => {
    expect(names(config({ proxy: 'http://corp:8080' }), { NO_PROXY: '*' })).toEqual(['proxy corp:8080']);
    expect(names(config({ proxy: 'http://corp:8080', compareDirect: true }))).toEqual(['direct', 'proxy corp:8080']);
  });

  it('probes through every named proxy, which win over proxy', () => {
    const proxies = [
      { name: 'zscaler', url: 'http://z:9480', expectInterception: true },
      { name: 'squid', url: 'http://s:3128', expectInterception: false },
    ];
    expect(names(config({ proxy: 'http://corp:8080', proxies }))).toEqual(['zscaler z:9480', 'squid s:3128']);
    expect(names(config({ proxies, compareDirect: true }))).toEqual(['direct', 'zscaler z:9480', 'squid s:3128']);
    expect(pathsFor(target, config({ proxies }), {}).map((p) => p.expectInterception)).toEqual([true, false]);
  });
});
