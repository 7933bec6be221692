import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootCertificates } from 'node:tls';
import { getPki } from '../../../test/fixtures/pki.js';
import type { Pki } from '../../../test/fixtures/pki.js';
import { startRawServer, startTlsServer } from '../../../test/fixtures/tls-servers.js';
import type { RunningServer } from '../../../test/fixtures/tls-servers.js';
import { deadline } from '../../../test/helpers/timing.js';
import { connectTcp } from '../net/dial.js';
import { connectTls, trustedContext } from './tls-client.js';
import type { TlsClientResult } from './tls-client.js';

let pki: Pki;
let full: RunningServer;
let close: RunningServer;

beforeAll(async () => {
  pki = await getPki();
  [full, close] = await Promise.all([startTlsServer('full'), startRawServer('close')]);
});

afterAll(async () => {
  await Promise.all([full.close(), close.close()]);
});

async function handshake(port: number, servername: string, ca: readonly string[], viaProxy = false): Promise<TlsClientResult> {
  const d = deadline(5000);
  try {
    const dialed = await connectTcp('127.0.0.1', port, d.signal);
    if (!dialed.ok) throw new Error(dialed.message);
    return await connectTls(dialed.socket, { servername, secureContext: trustedContext(rootCertificates, ca), alpn: ['h2', 'http/1.1'], viaProxy, signal: d.signal });
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
      good.tap.destroy();
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
