import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load.js';

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'egress.yml');
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
}

describe('feed: defaults', () => {
  it('lists every resolver, keeps an address one interval past its TTL and the refresh, and has no named lists', () => {
    expect(parseConfig('interval: 45s\n', 'egress.yml').feed).toEqual({ resolvers: null, graceMs: 45_000, maxAddresses: 5000, maxBytes: 1_000_000, lists: [] });
  });

  it('gives a cron schedule, whose gaps the file does not state, 5m of grace', () => {
    expect(parseConfig('schedule: "*/5 * * * *"\ntimeout: 10s\n', 'egress.yml').feed.graceMs).toBe(300_000);
  });

  it('reads every key', () => {
    const config = parseConfig(
      `dns:
  servers: [1.1.1.1, "9.9.9.9:5353"]
targets:
  - { host: mirror.example, labels: { team: platform } }
feed:
  resolvers: ["9.9.9.9:5353"]
  grace: 0s
  max_addresses: 100
  max_bytes: 4096
  lists:
    - { name: chainguard, hosts: [CGR.dev., apk.cgr.dev], families: [v4] }
    - { name: platform_team, labels: { team: platform } }
`,
      'egress.yml',
    );
    expect(config.feed).toEqual({
      resolvers: ['9.9.9.9:5353'],
      graceMs: 0,
      maxAddresses: 100,
      maxBytes: 4096,
      lists: [
        { name: 'chainguard', hosts: ['cgr.dev', 'apk.cgr.dev'], labels: {}, families: ['v4'] },
        { name: 'platform_team', hosts: null, labels: { team: 'platform' }, families: ['v4', 'v6'] },
      ],
    });
  });

  it('names a resolver as dns.servers does: 1.1.1.1 is 1.1.1.1:53', () => {
    expect(parseConfig('dns: { servers: ["1.1.1.1:53"] }\nfeed: { resolvers: [1.1.1.1] }\n', 'egress.yml').feed.resolvers).toEqual(['1.1.1.1:53']);
    expect(parseConfig('feed: { resolvers: [system] }\n', 'egress.yml').feed.resolvers).toEqual(['system']);
  });
});

describe('feed: problems, each with its exact message', () => {
  const cases: Array<{ name: string; yaml: string; problems: string[] }> = [
    { name: 'not a mapping', yaml: 'feed: [a]\n', problems: ['egress.yml: feed: expected a mapping, got a list'] },
    { name: 'unknown key', yaml: 'feed: { max_lines: 5 }\n', problems: ['egress.yml: feed.max_lines: unknown key'] },
    {
      name: 'a resolver that is not asked',
      yaml: 'dns: { servers: [1.1.1.1] }\nfeed: { resolvers: ["8.8.8.8", system] }\n',
      problems: [
        'egress.yml: feed.resolvers[0]: "8.8.8.8:53" is not a resolver of dns.servers (1.1.1.1:53)',
        'egress.yml: feed.resolvers[1]: "system" is not a resolver of dns.servers (1.1.1.1:53)',
      ],
    },
    { name: 'a resolver that is no address', yaml: 'feed: { resolvers: [dns.google] }\n', problems: ['egress.yml: feed.resolvers[0]: expected system or ip[:port], got "dns.google"'] },
    { name: 'no resolver at all', yaml: 'feed: { resolvers: [] }\n', problems: ['egress.yml: feed.resolvers: expected a non-empty list of resolvers, got an empty list'] },
    { name: 'a resolver twice', yaml: 'feed: { resolvers: [system, system] }\n', problems: ['egress.yml: feed.resolvers[1]: "system" is listed twice'] },
    { name: 'grace not a duration', yaml: 'feed: { grace: 5 }\n', problems: ['egress.yml: feed.grace: expected a duration like 30s or 1m30s, got 5'] },
    { name: 'grace too long', yaml: 'feed: { grace: 2d }\n', problems: ['egress.yml: feed.grace: must be at most 1d, got 2d'] },
    { name: 'max_addresses 0', yaml: 'feed: { max_addresses: 0 }\n', problems: ['egress.yml: feed.max_addresses: expected an integer from 1 to 1000000, got 0'] },
    { name: 'max_bytes a string', yaml: 'feed: { max_bytes: 1MB }\n', problems: ['egress.yml: feed.max_bytes: expected an integer from 1 to 100000000, got "1MB"'] },
    { name: 'a list without a name', yaml: 'feed: { lists: [{ hosts: [cgr.dev] }] }\n', problems: ['egress.yml: feed.lists[0].name: required'] },
    {
      name: 'a list name that is no nft set name',
      yaml: 'feed: { lists: [{ name: "Chainguard Hosts" }, { name: 1st }] }\n',
      problems: [
        `egress.yml: feed.lists[0].name: expected a name of up to 32 lower-case letters, digits, '_' or '-', starting with a letter, got "Chainguard Hosts"`,
        `egress.yml: feed.lists[1].name: expected a name of up to 32 lower-case letters, digits, '_' or '-', starting with a letter, got "1st"`,
      ],
    },
    { name: 'a list name twice', yaml: 'feed: { lists: [{ name: a }, { name: a }] }\n', problems: ['egress.yml: feed.lists[1].name: "a" is listed twice'] },
    {
      name: 'a host no target has',
      yaml: 'exclude: [support.chainguard.dev]\nfeed: { lists: [{ name: a, hosts: [cgr.dev, support.chainguard.dev] }, { name: b, hosts: ["http://x"] }] }\n',
      problems: [
        'egress.yml: feed.lists[0].hosts[1]: "support.chainguard.dev" is not a host of any target',
        'egress.yml: feed.lists[1].hosts[0]: expected a host name or IP address, got "http://x"',
      ],
    },
    { name: 'no host', yaml: 'feed: { lists: [{ name: a, hosts: [] }] }\n', problems: ['egress.yml: feed.lists[0].hosts: expected a non-empty list of host names, got an empty list'] },
    { name: 'labels no target has', yaml: 'feed: { lists: [{ name: a, labels: { team: platfrom } }] }\n', problems: ['egress.yml: feed.lists[0].labels: no target has team=platfrom'] },
    { name: 'a label value that is no string', yaml: 'feed: { lists: [{ name: a, labels: { tier: 1 } }] }\n', problems: ['egress.yml: feed.lists[0].labels.tier: expected a string, got 1'] },
    { name: 'families', yaml: 'feed: { lists: [{ name: a, families: [v5] }] }\n', problems: ['egress.yml: feed.lists[0].families[0]: expected one of v4, v6, got "v5"'] },
    { name: 'unknown list key', yaml: 'feed: { lists: [{ name: a, family: v4 }] }\n', problems: ['egress.yml: feed.lists[0].family: unknown key'] },
  ];
  for (const { name, yaml, problems } of cases) {
    it(name, () => {
      expect(problemsOf(yaml)).toEqual(problems);
    });
  }

  it('does not check hosts against targets that have problems of their own', () => {
    expect(problemsOf('targets: [{ host: a.example, port: 0 }]\nfeed: { lists: [{ name: a, hosts: [a.example] }] }\n')).toEqual([
      'egress.yml: targets[0].port: expected an integer from 1 to 65535, got 0',
    ]);
  });
});
