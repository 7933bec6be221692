// The same broken answer gives the same reason in every check that sends HTTP: each
// server below misbehaves after a good TLS handshake, and the http check and the
// registry check (its first request, GET /v2/) are sent to it in turn.
import { constants as h2, createSecureServer } from 'node:http2';
import type { Http2SecureServer, ServerHttp2Stream } from 'node:http2';
import { createServer as createTlsServer } from 'node:tls';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPki } from '../../../test/fixtures/pki.js';
import type { Pki } from '../../../test/fixtures/pki.js';
import { listen } from '../../../test/fixtures/listen.js';
import { timed } from '../../../test/helpers/timing.js';
import type { Target } from '../../model/types.js';
import { directDial } from '../net/dial.js';
import type { FailureReason } from '../reasons.js';
import { probeRegistry } from '../registry/registry.js';
import { probeHttp } from './http.js';
import { requestFailure } from './request-failure.js';

type Fault = { name: string; reason: FailureReason; alpn: 'h2' | 'http/1.1'; answer: (request: { stream?: ServerHttp2Stream; socket?: TLSSocket }) => void };

const FAULTS: Fault[] = [
  { name: 'h2: the stream cancelled (RST_STREAM CANCEL)', reason: 'reset', alpn: 'h2', answer: ({ stream }) => stream?.close(h2.NGHTTP2_CANCEL) },
  { name: 'h2: the stream refused (RST_STREAM REFUSED_STREAM)', reason: 'reset', alpn: 'h2', answer: ({ stream }) => stream?.close(h2.NGHTTP2_REFUSED_STREAM) },
  { name: 'h2: GOAWAY with PROTOCOL_ERROR', reason: 'reset', alpn: 'h2', answer: ({ stream }) => stream?.session?.goaway(h2.NGHTTP2_PROTOCOL_ERROR) },
  { name: 'h2: the session destroyed with INTERNAL_ERROR', reason: 'reset', alpn: 'h2', answer: ({ stream }) => stream?.session?.destroy(new Error('gone'), h2.NGHTTP2_INTERNAL_ERROR) },
  { name: 'HTTP/1.1: closed after the request', reason: 'reset', alpn: 'http/1.1', answer: ({ socket }) => socket?.end() },
  { name: 'HTTP/1.1: half a head, then closed', reason: 'reset', alpn: 'http/1.1', answer: ({ socket }) => socket?.end('HTTP/1.1 200 OK\r\nContent-Le') },
  { name: 'HTTP/1.1: an answer that is not HTTP', reason: 'http_bad_response', alpn: 'http/1.1', answer: ({ socket }) => socket?.end('SSH-2.0-OpenSSH_9.2\r\n\r\n') },
  { name: 'HTTP/1.1: no answer at all', reason: 'timeout', alpn: 'http/1.1', answer: () => undefined },
];

let pki: Pki;
const servers: (Http2SecureServer | TlsServer)[] = [];
const ports = new Map<string, number>();

async function start(fault: Fault): Promise<number> {
  const tls = { key: pki.ecdsa.key, cert: pki.ecdsa.chain };
  let server: Http2SecureServer | TlsServer;
  if (fault.alpn === 'h2') {
    const s = createSecureServer({ ...tls, allowHTTP1: false });
    s.on('sessionError', () => undefined);
    s.on('stream', (stream) => {
      stream.on('error', () => undefined);
      fault.answer({ stream });
    });
    server = s;
  } else {
    server = createTlsServer({ ...tls, ALPNProtocols: ['http/1.1'] }, (socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => fault.answer({ socket }));
    });
  }
  servers.push(server);
  return listen(server);
}

beforeAll(async () => {
  pki = await getPki();
  for (const fault of FAULTS) ports.set(fault.name, await start(fault));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

const target = (port: number): Target => ({ host: 'cgr.dev', port, families: ['v4'], checks: ['http'], labels: {}, purpose: 'test', source: 'test' });

describe('a request that fails: one reason for every check', () => {
  it.each(FAULTS.map((f) => [f.name, f] as const))('%s', async (_name, fault) => {
    const port = ports.get(fault.name)!;
    const deadline = fault.reason === 'timeout' ? 600 : 10_000;
    const { result: http } = await timed(deadline, (signal) => probeHttp(target(port), { dial: directDial('127.0.0.1', port), ca: [pki.rootCa] }, signal));
    const { result: registry } = await timed(deadline, (signal) =>
      probeRegistry(
        { host: 'cgr.dev', port, repository: 'r', reference: 'latest', platform: 'linux/amd64' },
        { dialFor: () => directDial('127.0.0.1', port), ca: [pki.rootCa] },
        signal,
      ),
    );
    expect({ http: http.reason, registry: registry.reason }).toEqual({ http: fault.reason, registry: fault.reason });
    expect(registry.failedStep).toBe('ping');
  });

  it('reads codes, never messages, and names the peer and the protocol', () => {
    const err = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    expect(requestFailure(err('ERR_HTTP2_STREAM_CANCEL'), false, 'cgr.dev', '2')).toEqual({ reason: 'reset', message: 'cgr.dev closed the connection before the HTTP/2 answer (ERR_HTTP2_STREAM_CANCEL)' });
    expect(requestFailure(err('ERR_HTTP2_SESSION_ERROR'), false, 'cgr.dev').reason).toBe('reset');
    expect(requestFailure(err('ERR_SSL_UNEXPECTED_EOF_WHILE_READING'), false, 'cgr.dev').reason).toBe('reset');
    expect(requestFailure(err('ERR_STREAM_PREMATURE_CLOSE'), false, 'cgr.dev').reason).toBe('reset');
    expect(requestFailure(err('ERR_HTTP2_INVALID_HEADER_VALUE'), false, 'cgr.dev').reason).toBe('http_bad_response');
    expect(requestFailure(err('ECONNREFUSED'), false, 'cgr.dev').reason).toBe('refused');
    // The deadline wins whatever the error says.
    expect(requestFailure(err('ECONNRESET'), true, 'cgr.dev', '1.1')).toEqual({ reason: 'timeout', message: 'no HTTP/1.1 answer from cgr.dev before the deadline' });
  });
});
