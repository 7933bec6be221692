import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createNetServer } from 'node:net';
import { rootCertificates } from 'node:tls';
import { getPki } from '../../../test/fixtures/pki.js';
import type { Pki } from '../../../test/fixtures/pki.js';
import { listen } from '../../../test/fixtures/listen.js';
import { startProxy } from '../../../test/fixtures/proxies.js';
import type { RunningProxy } from '../../../test/fixtures/proxies.js';
import { startRawServer, startRefusingPeers, startTlsServer } from '../../../test/fixtures/tls-servers.js';
import type { RunningServer } from '../../../test/fixtures/tls-servers.js';
import { deadline } from '../../../test/helpers/timing.js';
import { connectTcp, directDial } from '../net/dial.js';
import { proxyDial } from '../net/proxy.js';
import type { Dial } from '../types.js';
import { connectTls, dialTls, trustedContext } from './tls-client.js';
import type { DialedTls, TlsClientResult } from './tls-client.js';

let pki: Pki;
let full: RunningServer;
let close: RunningServer;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  pki = await getPki();
  [full, close] = await Promise.all([startTlsServer('full'), startRawServer('close')]);
  closers.push(() => full.close(), () => close.close());
});

afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
});

async function handshake(port: number, servername: string, ca: readonly string[], viaProxy = false): Promise<TlsClientResult> {
  const d = deadline(5000);
  try {
    const dialed = await connectTcp('127.0.0.1', port, d.signal);
    if (!dialed.ok) throw new Error(dialed.message);
    return await connectTls(dialed.socket, { servername, secureContext: trustedContext(rootCertificates, ca), alpn: ['h2', 'http/1.1'], viaProxy, observeWire: true, signal: d.signal });
  } finally {
    d.clear();
  }
}

describe('trustedContext', () => {
  it('builds one context per roots and CA set, and skips PEM blocks that do not parse', () => {
    const ca = [pki.rootCa];
    expect(trustedContext(rootCertificates, ca)).toBe(trustedContext(rootCertificates, [pki.rootCa]));
    expect(trustedContext(rootCertificates, ca)).not.toBe(trustedContext(rootCertificates, []));
    expect(() => trustedContext(rootCertificates, ['-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n'])).not.toThrow();
  });
});

describe('connectTls', () => {
  it('verifies against the configured CA and the name, and reports ALPN and version', async () => {
    const good = await handshake(full.port, 'cgr.dev', [pki.rootCa]);
    expect(good).toMatchObject({ ok: true, authorized: true, alpn: 'h2' });
    if (good.ok) {
      expect(good.version).toMatch(/^TLSv1\.[23]$/);
      expect(good.socket.isSessionReused()).toBe(false);
      // The name check saw the leaf alone; the caller gets the socket's own chain back.
      expect(good.socket.getPeerCertificate(true).issuerCertificate.subject.CN).toBe('Egress Test Issuing CA');
      // The leaf it read is the one the tls check keys its chain facts by.
      expect(good.leafFingerprint).toBe(good.socket.getPeerCertificate(false).fingerprint256);
      good.transport.destroy();
      good.socket.destroy();
    }
    const wrongName = await handshake(full.port, 'example.test', [pki.rootCa]);
    expect(wrongName).toMatchObject({ ok: true, authorized: false, authorizationError: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    if (wrongName.ok) wrongName.socket.destroy();
    const byAddress = await handshake(full.port, '127.0.0.1', [pki.rootCa]);
    expect(byAddress).toMatchObject({ ok: true, authorized: true });
    if (byAddress.ok) byAddress.socket.destroy();
    const untrusted = await handshake(full.port, 'cgr.dev', []);
    expect(untrusted).toMatchObject({ ok: true, authorized: false, authorizationError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' });
    // An unverified chain skips the name check: no fingerprint from it (the tls check reads the leaf itself).
    if (untrusted.ok) expect(untrusted.leafFingerprint).toBeUndefined();
    if (untrusted.ok) untrusted.socket.destroy();
  });

  it('a close before any TLS byte is the proxy dropping the tunnel on a proxy path, a reset otherwise', async () => {
    expect(await handshake(close.port, 'cgr.dev', [])).toMatchObject({ ok: false, reason: 'reset' });
    expect(await handshake(close.port, 'cgr.dev', [], true)).toMatchObject({ ok: false, reason: 'proxy_closed' });
  });
});

/** What a failure or success says, beside the socket. */
function summary(r: DialedTls): Record<string, unknown> {
  if (r.ok) {
    r.socket.destroy();
    r.transport.destroy();
    return { ok: true, version: r.version, alpn: r.alpn, authorized: r.authorized };
  }
  return { ok: false, stage: r.stage, verdict: r.verdict, reason: r.reason, detail: r.detail };
}

/** One handshake each way, observed and native, over `dial`. */
async function bothWays(dial: Dial, { viaProxy = false, deadlineMs = 5000 } = {}): Promise<{ observed: Record<string, unknown>; native: Record<string, unknown> }> {
  const one = async (observeWire: boolean) => {
    const d = deadline(deadlineMs);
    try {
      return summary(await dialTls(dial, { servername: 'cgr.dev', secureContext: trustedContext(rootCertificates, [pki.rootCa]), alpn: ['h2', 'http/1.1'], viaProxy, observeWire, signal: d.signal }));
    } finally {
      d.clear();
    }
  };
  return { observed: await one(true), native: await one(false) };
}

describe('connectTls natively (observeWire: false): the same reasons and verdicts as observed', () => {
  let servers: Record<'alert' | 'garbage' | 'reset' | 'silent' | 'stall', RunningServer>;
  /** A real TLS server with no cipher the client shares: ECDSA key, RSA-signed TLS 1.2 suites only. */
  let noSharedCipher: number;
  /** Closes every connection as soon as it is accepted, before any ClientHello. */
  let closeOnAccept: number;

  beforeAll(async () => {
    const [alert, garbage, reset, silent, stall] = await Promise.all([startRawServer('alert'), startRawServer('garbage'), startRawServer('reset'), startRawServer('silent'), startRawServer('stall')]);
    servers = { alert, garbage, reset, silent, stall };
    closers.push(...Object.values(servers).map((s) => () => s.close()));
    const peers = await startRefusingPeers(pki);
    noSharedCipher = peers.noSharedCipher;
    closeOnAccept = peers.closeOnAccept;
    closers.push(peers.close);
  });

  it('succeeds with the same facts', async () => {
    const { observed, native } = await bothWays(directDial('127.0.0.1', full.port));
    expect(native).toEqual(observed);
    expect(native).toMatchObject({ ok: true, version: 'TLSv1.3', alpn: 'h2', authorized: true });
  });

  it('an alert: a verdict, read from the ssl code and its "SSL alert number"', async () => {
    for (const port of [servers.alert.port, noSharedCipher]) {
      const { observed, native } = await bothWays(directDial('127.0.0.1', port));
      expect(native).toEqual(observed);
      expect(native).toMatchObject({ ok: false, verdict: true, reason: 'tls_handshake_failed', detail: 'alert 40 handshake_failure' });
    }
  });

  it('a plain-HTTP answer: tls_handshake_failed; natively the detail names the ssl code, not the first bytes', async () => {
    const { observed, native } = await bothWays(directDial('127.0.0.1', servers.garbage.port));
    expect(observed).toMatchObject({ ok: false, verdict: false, reason: 'tls_handshake_failed', detail: 'not a TLS answer: not a TLS record: first bytes 485454502f' });
    expect(native).toMatchObject({ ok: false, verdict: false, reason: 'tls_handshake_failed', detail: 'not a TLS answer: wrong_version_number' });
  });

  it('closed or reset: reset, with the bytes that came back (none)', async () => {
    for (const port of [closeOnAccept, close.port, servers.reset.port]) {
      const { observed, native } = await bothWays(directDial('127.0.0.1', port));
      expect(native).toEqual(observed);
      expect(native).toMatchObject({ ok: false, verdict: false, reason: 'reset', detail: 'connection closed without an alert after 0 bytes (ECONNRESET)' });
    }
  });

  it('no answer, or a stall: timeout, with the bytes counted by the socket', async () => {
    const silent = await bothWays(directDial('127.0.0.1', servers.silent.port), { deadlineMs: 300 });
    expect(silent.native).toEqual(silent.observed);
    expect(silent.native).toMatchObject({ ok: false, reason: 'timeout', detail: 'no answer before the deadline' });
    const stall = await bothWays(directDial('127.0.0.1', servers.stall.port), { deadlineMs: 500 });
    // 100 bytes hold no whole ServerHello; after one, only the parser could add "(ServerHello seen)".
    expect(stall.native).toEqual(stall.observed);
    expect(stall.native).toMatchObject({ ok: false, reason: 'timeout', detail: 'stalled after 100 bytes' });
  });

  it('a dialled socket that arrives paused, ended by the peer or destroyed: the same both ways, and no wait for the deadline', async () => {
    const paused: Dial = async (signal) => {
      const r = await directDial('127.0.0.1', full.port)(signal);
      if (r.ok) r.socket.pause();
      return r;
    };
    const ok = await bothWays(paused);
    expect(ok.native).toEqual(ok.observed);
    expect(ok.native).toMatchObject({ ok: true });
    const ended: Dial = async (signal) => {
      const r = await directDial('127.0.0.1', close.port)(signal);
      if (r.ok) {
        // Let the peer's FIN arrive and be read before TLS gets the socket.
        r.socket.write('x');
        await new Promise<void>((resolve) => r.socket.once('end', () => resolve()).resume());
      }
      return r;
    };
    const destroyed: Dial = async (signal) => {
      const r = await directDial('127.0.0.1', full.port)(signal);
      if (r.ok) r.socket.destroy();
      return r;
    };
    for (const dial of [ended, destroyed]) {
      const { observed, native } = await bothWays(dial, { deadlineMs: 3000 });
      // The tap's write on a destroyed socket says EPIPE: the same reason.
      expect(observed).toMatchObject({ ok: false, reason: 'reset', detail: expect.stringMatching(/^connection closed without an alert after 0 bytes \((ECONNRESET|EPIPE)\)$/) as unknown });
      expect(native).toMatchObject({ ok: false, reason: 'reset', detail: 'connection closed without an alert after 0 bytes (ECONNRESET)' });
    }
  });

  it('what only the wire reads: an answer that is one warning-level or unknown alert is a close to OpenSSL (reset natively)', async () => {
    /** Answers the ClientHello with one alert record and closes. */
    const alerting = async (level: number, description: number): Promise<number> => {
      const server = createNetServer((s) => {
        s.on('error', () => {});
        s.once('data', () => s.end(Buffer.from([0x15, 3, 3, 0, 2, level, description])));
      });
      closers.push(() => new Promise((r) => server.close(() => r())));
      return listen(server);
    };
    for (const [level, description, name] of [
      [1, 0, 'close_notify'],
      [1, 40, 'handshake_failure'],
      [2, 200, 'unknown'],
    ] as const) {
      const { observed, native } = await bothWays(directDial('127.0.0.1', await alerting(level, description)));
      expect(observed).toMatchObject({ ok: false, verdict: true, reason: 'tls_handshake_failed', detail: `alert ${description} ${name}` });
      expect(native).toMatchObject({ ok: false, verdict: false, reason: 'reset', detail: 'connection closed without an alert after 7 bytes (ECONNRESET)' });
    }
  });

  describe('through a CONNECT tunnel: the proxy answer is not counted as TLS bytes', () => {
    let proxies: Record<'tunnel' | 'closeAfter200' | 'cut' | 'afterHead', RunningProxy>;
    const dialVia = (p: RunningProxy, port: number): Dial => proxyDial({ name: 'corp', url: new URL(p.url) }, 'cgr.dev', port);

    beforeAll(async () => {
      const map = { [`cgr.dev:${full.port}`]: full.port, [`cgr.dev:${servers.garbage.port}`]: servers.garbage.port };
      const [tunnel, closeAfter200, cut, afterHead] = await Promise.all([
        startProxy({ mode: 'tunnel', map }),
        startProxy({ mode: 'close-after-200', map }),
        startProxy({ mode: 'cut-mid-tunnel', map, cutAfterBytes: 100 }),
        // The first bytes of the tunnel come in the same read as the 200: the dial pushes them back.
        startProxy({ mode: 'tunnel', map, afterHead: Buffer.from('HTTP/1.1 403 Forbidden\r\n\r\n') }),
      ]);
      proxies = { tunnel, closeAfter200, cut, afterHead };
      closers.push(...Object.values(proxies).map((p) => () => p.close()));
    });

    it('a tunnel to a TLS server: the same success', async () => {
      const { observed, native } = await bothWays(dialVia(proxies.tunnel, full.port), { viaProxy: true });
      expect(native).toEqual(observed);
      expect(native).toMatchObject({ ok: true, version: 'TLSv1.3', alpn: 'h2' });
    });

    it('a tunnel closed right after its 200: proxy_closed', async () => {
      const { observed, native } = await bothWays(dialVia(proxies.closeAfter200, full.port), { viaProxy: true });
      expect(native).toEqual(observed);
      expect(native).toMatchObject({ ok: false, reason: 'proxy_closed', detail: 'the proxy closed the tunnel before any TLS answer (ECONNRESET)' });
    });

    it('a tunnel cut after 100 bytes of the server flight: reset, after 100 bytes', async () => {
      const { observed, native } = await bothWays(dialVia(proxies.cut, full.port), { viaProxy: true });
      expect(native).toEqual(observed);
      expect(native).toMatchObject({ ok: false, reason: 'reset', detail: 'connection closed without an alert after 100 bytes (ECONNRESET)' });
    });

    it('bytes that came with the 200 are TLS bytes: TLS reads them first', async () => {
      const { observed, native } = await bothWays(dialVia(proxies.afterHead, full.port), { viaProxy: true });
      expect(observed).toMatchObject({ ok: false, reason: 'tls_handshake_failed', detail: 'not a TLS answer: not a TLS record: first bytes 485454502f' });
      expect(native).toMatchObject({ ok: false, reason: 'tls_handshake_failed', detail: 'not a TLS answer: wrong_version_number' });
    });
  });
});
