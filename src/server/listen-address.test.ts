import { describe, expect, it } from 'vitest';
import { describeListenError, formatListenAddress, parseListenAddress } from './listen-address.js';

describe('parseListenAddress', () => {
  it('reads every address, an IPv4 or IPv6 address, or a host name', () => {
    expect(parseListenAddress(':9739')).toEqual({ host: undefined, port: 9739 });
    expect(parseListenAddress('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('[::1]:9739')).toEqual({ host: '::1', port: 9739 });
    expect(parseListenAddress('localhost:9739')).toEqual({ host: 'localhost', port: 9739 });
    expect(parseListenAddress('exporter-0.egress.svc.cluster.local:9739')).toEqual({ host: 'exporter-0.egress.svc.cluster.local', port: 9739 });
  });

  it('refuses what cannot be an address or a name, naming the flag', () => {
    const cases: Array<[string, string]> = [
      ['999.1.1.1:9739', '--web.listen-address: "999.1.1.1" is not an IPv4 address'],
      ['1.2.3:9739', '--web.listen-address: "1.2.3" is not an IPv4 address'],
      ['[::g]:9739', '--web.listen-address: expected [host]:port such as :9739 or 127.0.0.1:9739, got "[::g]:9739"'],
      ['[1.2.3.4]:9739', '--web.listen-address: "1.2.3.4" is not an IPv6 address'],
      ['host_name:9739', '--web.listen-address: "host_name" is not an IP address or a host name'],
      ['-bad.example:9739', '--web.listen-address: "-bad.example" is not an IP address or a host name'],
      ['9739', '--web.listen-address: expected [host]:port such as :9739 or 127.0.0.1:9739, got "9739"'],
      [':70000', '--web.listen-address: expected [host]:port such as :9739 or 127.0.0.1:9739, got ":70000"'],
    ];
    for (const [value, message] of cases) expect(() => parseListenAddress(value), value).toThrow(message);
  });

  it('prints an address as it is typed, IPv6 in brackets', () => {
    expect(formatListenAddress({ host: undefined, port: 9739 })).toBe(':9739');
    expect(formatListenAddress({ host: '::1', port: 9739 })).toBe('[::1]:9739');
    expect(formatListenAddress({ host: '127.0.0.1', port: 9739 })).toBe('127.0.0.1:9739');
  });
});

describe('describeListenError', () => {
  const error = (code: string, syscall: string) => Object.assign(new Error(`${syscall} ${code}`), { code, syscall });
  it('says in words why a listen or its lookup failed, with the code', () => {
    expect(describeListenError(error('EADDRINUSE', 'listen'))).toBe('the port is already in use by another process (EADDRINUSE)');
    expect(describeListenError(error('ENOTFOUND', 'getaddrinfo'))).toBe('the host name does not resolve (ENOTFOUND)');
    expect(describeListenError(error('EXYZ', 'listen'))).toBe('listen EXYZ (EXYZ)');
  });
  it('leaves other errors alone: they are bugs', () => {
    expect(describeListenError(new TypeError('x is undefined'))).toBeUndefined();
    expect(describeListenError(error('ENOENT', 'open'))).toBeUndefined();
    expect(describeListenError('text')).toBeUndefined();
  });
});
