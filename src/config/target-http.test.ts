// targets[].server_name, http.headers and http.expect_body: what each accepts, the exact
// message for what it refuses, how they reach the resolved target, and how
// --config.check prints them (credential-like header values redacted).
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load.js';
import { renderConfig } from './render.js';
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

const target = (yaml: string) => parseConfig(`catalog: none\ntargets:\n${yaml}`, 'egress.yml').targets[0];

describe('targets[].server_name', () => {
  it('is a host name, lower-cased, without its trailing dot, and reaches the resolved target', () => {
    const config = parseConfig('catalog: none\ntargets:\n  - { host: 127.60.0.10, port: 8443, server_name: Health.Internal.Example. }\n', 'egress.yml');
    expect(config.targets[0]).toMatchObject({ host: '127.60.0.10', port: 8443, serverName: 'health.internal.example' });
    expect(resolveTargets(config)[0]).toMatchObject({ host: '127.60.0.10', serverName: 'health.internal.example' });
    // Absent: no key at all, so a target without it reads as before.
    expect(target('  - host: a.example\n')).not.toHaveProperty('serverName');
  });

  it('refuses what is not a name to send as SNI, and a target whose checks do not use it', () => {
    expect(
      problemsOf(
        'catalog: none\ntargets:\n' +
          '  - { host: 127.0.0.1, server_name: 10.1.2.3 }\n' +
          '  - { host: 127.0.0.1, port: 2, server_name: "[::1]" }\n' +
          '  - { host: 127.0.0.1, port: 3, server_name: "*.example.com" }\n' +
          '  - { host: 127.0.0.1, port: 4, server_name: "https://a.example/" }\n' +
          '  - { host: 127.0.0.1, port: 5, server_name: "a.example:443" }\n' +
          '  - { host: 127.0.0.1, port: 6, server_name: 42 }\n' +
          '  - { host: 127.0.0.1, port: 7, server_name: a.example, checks: [dns, tcp] }\n',
      ),
    ).toEqual([
      'egress.yml: targets[0].server_name: expected a host name to send as SNI (not an IP address), got "10.1.2.3" (an IP address: SNI carries names only; an IP address is the host to dial)',
      'egress.yml: targets[1].server_name: expected a host name to send as SNI (not an IP address), got "[::1]" (an IP address: SNI carries names only; an IP address is the host to dial)',
      'egress.yml: targets[2].server_name: expected a host name to send as SNI (not an IP address), got "*.example.com" (wildcards cannot be probed)',
      'egress.yml: targets[3].server_name: expected a host name to send as SNI (not an IP address), got "https://a.example/" (a URL: give only its host)',
      'egress.yml: targets[4].server_name: expected a host name to send as SNI (not an IP address), got "a.example:443" (put the port in port:)',
      'egress.yml: targets[5].server_name: expected a host name to send as SNI (not an IP address), got 42',
      'egress.yml: targets[6].server_name: cannot be set when checks includes neither tls nor http: it is the name their TLS and HTTP use',
    ]);
    // tls alone, or http alone, is enough.
    expect(problemsOf('catalog: none\ntargets:\n  - { host: 127.0.0.1, server_name: a.example, checks: [tls] }\n  - { host: 127.0.0.1, port: 2, server_name: a.example, checks: [http] }\n')).toEqual([]);
  });
});

describe('targets[].http.headers', () => {
  it('sends what it lists, names lower-cased and values trimmed', () => {
    expect(target('  - host: a.example\n    http: { path: /health, headers: { X-Api-Key: " k3y ", Accept: application/json, User-Agent: probe/1 } }\n')?.http).toEqual({
      method: 'GET',
      path: '/health',
      headers: { 'x-api-key': 'k3y', accept: 'application/json', 'user-agent': 'probe/1' },
    });
    // An empty mapping is no headers.
    expect(target('  - host: a.example\n    http: { headers: {} }\n')?.http).toEqual({ method: 'GET', path: '/' });
  });

  it('refuses Host, hop-by-hop headers, unsendable values and repeats, each at its key', () => {
    expect(
      problemsOf(
        'catalog: none\ntargets:\n  - host: a.example\n    http:\n      headers:\n' +
          '        Host: other.example\n' +
          '        Connection: keep-alive\n' +
          '        Transfer-Encoding: chunked\n' +
          '        Upgrade: h2c\n' +
          '        TE: trailers\n' +
          '        Proxy-Authorization: Basic eA==\n' +
          '        Content-Length: "0"\n' +
          '        X-Count: 3\n' +
          '        "X-Bad Name": x\n' +
          '        X-Multi: "a\\r\\nX-Injected: b"\n' +
          '        X-Token: t\n' +
          '        x-token: u\n' +
          `        X-Long: "${'x'.repeat(4097)}"\n`,
      ),
    ).toEqual([
      "egress.yml: targets[0].http.headers.Host: cannot be set: the Host (HTTP/2 :authority) is the target's host, or its server_name: set server_name",
      "egress.yml: targets[0].http.headers.Connection: cannot be set: a hop-by-hop header: the connection is the check's own",
      'egress.yml: targets[0].http.headers.Transfer-Encoding: cannot be set: a hop-by-hop header: the check sends no body',
      'egress.yml: targets[0].http.headers.Upgrade: cannot be set: a hop-by-hop header: the check speaks the protocol ALPN chose',
      "egress.yml: targets[0].http.headers.TE: cannot be set: a hop-by-hop header: the connection is the check's own",
      'egress.yml: targets[0].http.headers.Proxy-Authorization: cannot be set: a hop-by-hop header: a proxy never sees what is sent inside its tunnel (put credentials in the proxy URL)',
      'egress.yml: targets[0].http.headers.Content-Length: cannot be set: the check sends no body',
      'egress.yml: targets[0].http.headers.X-Count: expected a string, got 3 (quote it: "3")',
      'egress.yml: targets[0].http.headers: expected a header name, got "X-Bad Name"',
      'egress.yml: targets[0].http.headers.X-Multi: expected a header value of visible characters, spaces and tabs (no line breaks or control characters)',
      'egress.yml: targets[0].http.headers: "X-Token" and "x-token" name the same header',
      'egress.yml: targets[0].http.headers.X-Long: expected at most 4096 characters, got 4097',
    ]);
  });
});

describe('targets[].http.expect_body', () => {
  it('is a substring, taken as written', () => {
    expect(target('  - host: a.example\n    http: { path: /health, expect_body: \'"status": "UP"\' }\n')?.http).toEqual({ method: 'GET', path: '/health', expectBody: '"status": "UP"' });
    // Regexp characters are text: a substring, never a pattern.
    expect(target('  - host: a.example\n    http: { expect_body: "ok.*" }\n')?.http?.expectBody).toBe('ok.*');
  });

  it('refuses an empty or oversized text, HEAD (no body) and Accept-Encoding (nothing is decompressed)', () => {
    expect(
      problemsOf(
        'catalog: none\ntargets:\n' +
          '  - { host: a.example, http: { expect_body: "" } }\n' +
          `  - { host: b.example, http: { expect_body: "${'x'.repeat(1025)}" } }\n` +
          '  - { host: c.example, http: { expect_body: 200 } }\n' +
          '  - { host: d.example, http: { method: HEAD, expect_body: ok } }\n' +
          '  - { host: e.example, http: { expect_body: ok, headers: { Accept-Encoding: gzip } } }\n',
      ),
    ).toEqual([
      'egress.yml: targets[0].http.expect_body: expected a non-empty string of at most 1024 characters (a substring, not a pattern), got ""',
      `egress.yml: targets[1].http.expect_body: expected a non-empty string of at most 1024 characters (a substring, not a pattern), got "${'x'.repeat(97)}..."`,
      'egress.yml: targets[2].http.expect_body: expected a non-empty string of at most 1024 characters (a substring, not a pattern), got 200 (quote it: "200")',
      'egress.yml: targets[3].http.expect_body: cannot be set when method is HEAD: an answer to HEAD has no body',
      'egress.yml: targets[4].http.headers.Accept-Encoding: cannot be set together with expect_body: the body is matched as it arrives, and the check decompresses nothing',
    ]);
    // Without expect_body, Accept-Encoding is the user's business.
    expect(problemsOf('catalog: none\ntargets:\n  - { host: e.example, http: { headers: { Accept-Encoding: gzip } } }\n')).toEqual([]);
  });
});

describe('--config.check', () => {
  const yaml =
    'catalog: none\ntargets:\n  - host: 127.0.0.1\n    port: 8443\n    server_name: health.internal.example\n' +
    '    http: { path: /health, headers: { Authorization: Bearer s3cr3t, X-Api-Key: k3y, Accept: application/json }, expect_body: UP }\n';

  it('prints the keys back as they read, so the output is a config again', () => {
    const config = parseConfig(yaml, 'egress.yml');
    expect(parseConfig(renderConfig(config), 'rendered.yml')).toEqual(config);
    expect(renderConfig(config)).toContain('server_name: health.internal.example');
  });

  it('redacts the values of headers that carry credentials, and only those', () => {
    const printed = renderConfig(parseConfig(yaml, 'egress.yml'), { redactSecrets: true });
    expect(printed).not.toContain('s3cr3t');
    expect(printed).not.toContain('k3y');
    expect(printed).toMatch(/authorization: <secret>/);
    expect(printed).toMatch(/x-api-key: <secret>/);
    expect(printed).toMatch(/accept: application\/json/);
    expect(printed).toMatch(/expect_body: UP/);
  });
});

describe('egress.example.yml', () => {
  it('shows the keys on a target of its own', async () => {
    const config = parseConfig(await readFile(new URL('../../egress.example.yml', import.meta.url), 'utf8'), 'egress.example.yml');
    expect(config.targets.find((t) => t.serverName !== undefined)).toEqual({
      host: '10.20.30.40',
      port: 8443,
      serverName: 'health.internal.example',
      families: ['v4'],
      checks: ['tcp', 'tls', 'http'],
      labels: {},
      http: { method: 'GET', path: '/health', headers: { 'x-api-key': 'change-me', accept: 'application/json' }, expectStatus: [200], expectBody: '"status":"UP"' },
    });
  });
});
