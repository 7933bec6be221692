import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { feedSettings } from './feed-settings.js';

describe('feedSettings', () => {
  it('takes every resolver, no allowlist, no refresh and the interval as grace by default', () => {
    const settings = feedSettings(parseConfig('interval: 20s\ntimeout: 5s\n', 'egress.yml'));
    expect(settings).toMatchObject({ resolvers: null, allowlist: null, retention: { refreshMs: 0, graceMs: 20_000 }, limits: { maxAddresses: 5000, maxBytes: 1_000_000 }, lists: [] });
  });

  it('takes the resolvers, allowlist and refresh the config gives', () => {
    const settings = feedSettings(
      parseConfig('dns: { servers: [1.1.1.1, 9.9.9.9], allowlist_cidrs: [104.16.0.0/13], firewall_refresh_interval: 5m }\nfeed: { resolvers: [9.9.9.9], grace: 0s }\n', 'egress.yml'),
    );
    expect([...(settings.resolvers ?? [])]).toEqual(['9.9.9.9:53']);
    expect(settings.allowlist?.contains('104.16.2.1')).toBe(true);
    expect(settings.allowlist?.contains('198.51.100.1')).toBe(false);
    expect(settings.retention).toEqual({ refreshMs: 300_000, graceMs: 0 });
  });
});
