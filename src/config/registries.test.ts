import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';
import { resolveRegistries } from './registries.js';

const CGR = { host: 'cgr.dev', port: 443, repository: 'chainguard/static', reference: 'latest', platform: 'linux/amd64', credentials: 'anonymous', dockerConfig: null };

describe('resolveRegistries', () => {
  it('checks cgr.dev in both Chainguard catalogs by default, nothing with catalog none', () => {
    expect(resolveRegistries(parseConfig('', 'egress.yml'))).toEqual([CGR]);
    expect(resolveRegistries(parseConfig('catalog: chainguard-2024\n', 'egress.yml'))).toEqual([CGR]);
    expect(resolveRegistries(parseConfig('catalog: none\n', 'egress.yml'))).toEqual([]);
  });

  it('drops the default when its host is excluded', () => {
    expect(resolveRegistries(parseConfig('exclude: [cgr.dev]\n', 'egress.yml'))).toEqual([]);
  });

  it('a registries list replaces the catalog default; an empty one turns the check off', () => {
    expect(resolveRegistries(parseConfig('registries: []\n', 'egress.yml'))).toEqual([]);
    expect(resolveRegistries(parseConfig('registries:\n  - { host: cache.example.com, repository: cgr/chainguard/static }\n', 'egress.yml'))).toEqual([
      { ...CGR, host: 'cache.example.com', repository: 'cgr/chainguard/static' },
    ]);
    expect(resolveRegistries(parseConfig('registries:\n  - { host: cgr.dev, credentials: env }\nexclude: [cgr.dev]\n', 'egress.yml'))).toEqual([{ ...CGR, credentials: 'env' }]);
  });
});
