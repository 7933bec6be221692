import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate } from './registry-challenge.js';

describe('parseWwwAuthenticate', () => {
  it('reads a registry Bearer challenge, quoted and unquoted values, any case', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://cgr.dev/token",service="cgr.dev"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://cgr.dev/token', service: 'cgr.dev' } },
    ]);
    expect(parseWwwAuthenticate('BEARER Realm=https://auth.example/token, Service=reg, scope="repository:a/b:pull,push"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'reg', scope: 'repository:a/b:pull,push' } },
    ]);
  });

  it('splits several challenges in one header and across headers', () => {
    expect(parseWwwAuthenticate('Basic realm="Registry Realm", Bearer realm="https://r/token",service="r"').map((c) => c.scheme)).toEqual(['basic', 'bearer']);
    expect(parseWwwAuthenticate(['Basic realm="x"', 'Bearer realm="https://r/token"'])).toEqual([
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'bearer', params: { realm: 'https://r/token' } },
    ]);
  });

  it('unescapes quoted-pairs and keeps the first of a repeated parameter', () => {
    expect(parseWwwAuthenticate('Bearer realm="a\\"b", realm="second", error="insufficient_scope"')).toEqual([
      { scheme: 'bearer', params: { realm: 'a"b', error: 'insufficient_scope' } },
    ]);
  });

  it('survives junk: a token68, a bare scheme, an unterminated quote, nothing', () => {
    expect(parseWwwAuthenticate('Negotiate abc123==, Bearer realm="https://r/t"').find((c) => c.scheme === 'bearer')?.params.realm).toBe('https://r/t');
    expect(parseWwwAuthenticate('Basic')).toEqual([{ scheme: 'basic', params: {} }]);
    expect(parseWwwAuthenticate('Bearer realm="https://r/t')).toEqual([{ scheme: 'bearer', params: { realm: 'https://r/t' } }]);
    expect(parseWwwAuthenticate('')).toEqual([]);
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
    expect(parseWwwAuthenticate(';;;')).toEqual([]);
  });
});
