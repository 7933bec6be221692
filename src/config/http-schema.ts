// A target's `http` key: the request the http check sends (method, path, headers) and
// the answer it expects (status, headers, a text in the body), each checked with an exact
// message, as schema.ts checks the rest of the file.
import type { HttpExpectation } from '../model/types.js';
import { describeNotString, distinctListOf, integer, leaf, mapping, mappingOf, oneOf } from './reader.js';
import type { Check } from './reader.js';

/** Probes only read: methods with side effects are refused. */
export const HTTP_METHODS = ['GET', 'HEAD', 'OPTIONS'] as const;

const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Header names to values, the names lower-cased. */
const headers: Check<Record<string, string>> = (value) => {
  const spelling = new Map<string, string>();
  const read = mappingOf('a mapping of header names to values', (name, headerValue, map): string | undefined => {
    if (!HEADER_NAME_RE.test(name)) return map.fail(`expected a header name, got ${JSON.stringify(name)}`, [], [name]);
    const earlier = spelling.get(name.toLowerCase());
    if (earlier !== undefined) return map.fail(`${JSON.stringify(earlier)} and ${JSON.stringify(name)} name the same header`, [], [name]);
    spelling.set(name.toLowerCase(), name);
    return typeof headerValue.input === 'string' ? headerValue.input : headerValue.fail(`expected a string, got ${describeNotString(headerValue.input)}`);
  })(value);
  return read === undefined ? undefined : Object.fromEntries(Object.entries(read).map(([name, text]) => [name.toLowerCase(), text]));
};

const httpMethod = leaf(`one of ${oneOf(HTTP_METHODS)}`, (input) => {
  const upper = typeof input === 'string' ? input.toUpperCase() : '';
  return (HTTP_METHODS as readonly string[]).includes(upper) ? upper : undefined;
});

// No spaces or control characters: a request line could not carry them.
const httpPath = leaf('a path starting with /', (input) =>
  typeof input === 'string' && input.startsWith('/') && [...input].every((char) => char > ' ' && char !== '\u007f') ? input : undefined,
);

/**
 * Request headers a probe may not set, lower-case, and why: the Host (:authority) is the
 * target's (or its server_name), the connection is the probe's own, and a proxy never
 * sees what is sent inside its tunnel.
 */
const REFUSED_REQUEST_HEADERS: Readonly<Record<string, string>> = {
  host: 'the Host (HTTP/2 :authority) is the target\'s host, or its server_name: set server_name',
  connection: 'a hop-by-hop header: the connection is the check\'s own',
  'keep-alive': 'a hop-by-hop header: the connection is the check\'s own',
  'proxy-connection': 'a hop-by-hop header: the connection is the check\'s own',
  'transfer-encoding': 'a hop-by-hop header: the check sends no body',
  te: 'a hop-by-hop header: the connection is the check\'s own',
  trailer: 'a hop-by-hop header: the check sends no body',
  upgrade: 'a hop-by-hop header: the check speaks the protocol ALPN chose',
  'http2-settings': 'a hop-by-hop header: the check speaks the protocol ALPN chose',
  'proxy-authorization': 'a hop-by-hop header: a proxy never sees what is sent inside its tunnel (put credentials in the proxy URL)',
  'proxy-authenticate': 'a hop-by-hop header, and a response header',
  'content-length': 'the check sends no body',
};

/** At most this many characters in a request header's value. */
const MAX_REQUEST_HEADER_VALUE = 4096;
/** At most this many characters in expect_body: a substring, looked for in at most 64 KiB. */
export const MAX_EXPECT_BODY_CHARS = 1024;

/** Request header names to values, the names lower-cased; refused names and unsendable values are problems. */
const requestHeaders: Check<Record<string, string>> = (value) => {
  const spelling = new Map<string, string>();
  const read = mappingOf('a mapping of header names to values', (name, headerValue, map): string | undefined => {
    if (!HEADER_NAME_RE.test(name)) return map.fail(`expected a header name, got ${JSON.stringify(name)}`, [], [name]);
    const lower = name.toLowerCase();
    const earlier = spelling.get(lower);
    if (earlier !== undefined) return map.fail(`${JSON.stringify(earlier)} and ${JSON.stringify(name)} name the same header`, [], [name]);
    spelling.set(lower, name);
    const refused = REFUSED_REQUEST_HEADERS[lower];
    if (refused !== undefined) return headerValue.fail(`cannot be set: ${refused}`);
    const text = headerValue.input;
    if (typeof text !== 'string') return headerValue.fail(`expected a string, got ${describeNotString(text)}`);
    // What a request line can carry: visible characters, spaces and tabs, no line breaks.
    if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(text)) return headerValue.fail('expected a header value of visible characters, spaces and tabs (no line breaks or control characters)');
    if (text.length > MAX_REQUEST_HEADER_VALUE) return headerValue.fail(`expected at most ${MAX_REQUEST_HEADER_VALUE} characters, got ${text.length}`);
    return text.trim();
  })(value);
  return read === undefined ? undefined : Object.fromEntries(Object.entries(read).map(([name, text]) => [name.toLowerCase(), text]));
};

const expectBody = leaf(`a non-empty string of at most ${MAX_EXPECT_BODY_CHARS} characters (a substring, not a pattern)`, (input) =>
  typeof input === 'string' && input !== '' && input.length <= MAX_EXPECT_BODY_CHARS ? input : undefined,
  describeNotString,
);

/** A target's `http`: the request the http check sends, and the answer it expects. */
export const httpExpectation = mapping('a mapping', (fields): HttpExpectation => {
  const out: HttpExpectation = { method: fields.at('method').or('GET', httpMethod), path: fields.at('path').or('/', httpPath) };
  const expectStatus = fields.at('expect_status').read(distinctListOf('status codes', integer(100, 599)));
  const expectHeaders = fields.at('expect_headers').read(headers);
  const headersKey = fields.at('headers');
  const sent = headersKey.read(requestHeaders);
  const bodyKey = fields.at('expect_body');
  const body = bodyKey.read(expectBody);
  if (body !== undefined && out.method === 'HEAD') bodyKey.fail('cannot be set when method is HEAD: an answer to HEAD has no body');
  // The body is matched as it arrives: the check decompresses nothing.
  if (body !== undefined && sent?.['accept-encoding'] !== undefined) {
    headersKey.fail('cannot be set together with expect_body: the body is matched as it arrives, and the check decompresses nothing', [Object.keys(headersKey.input as object).find((name) => name.toLowerCase() === 'accept-encoding') ?? 'accept-encoding']);
  }
  if (expectStatus !== undefined) out.expectStatus = expectStatus;
  if (expectHeaders !== undefined) out.expectHeaders = expectHeaders;
  if (sent !== undefined && Object.keys(sent).length > 0) out.headers = sent;
  if (body !== undefined) out.expectBody = body;
  return out;
});

