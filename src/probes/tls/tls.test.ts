import { X509Certificate } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPki } from '../../../test/fixtures/pki.js';
import type { Pki } from '../../../test/fixtures/pki.js';
import { RAW_VARIANTS, TLS_VARIANTS, loopbackDial, refusedPort, startRawServer, startTlsServer } from '../../../test/fixtures/tls-servers.js';
import type { RawVariant, RunningServer, TlsVariant } from '../../../test/fixtures/tls-servers.js';
import { deadline, eventually } from '../../../test/helpers/timing.js';
import { startProxy } from '../../../test/fixtures/proxies.js';
import { proxyDial } from '../net/proxy.js';
import { TLS_REQUIREMENTS, probeTls } from './tls.js';
import { classifyHandshakeFailure } from './tls-client.js';
import type { TlsProbeOptions, TlsRequirement, TlsResult } from './tls.js';
import { PREPARED_HANDSHAKES, REQUIREMENT_SPECS, buildClientContext } from './tls-requirements.js';
import { certFacts, chainsTo, dnField, matchesExpectedIssuer, parsePemCertificates } from './tls-certs.js';
import type { Dial, DialResult } from '../types.js';
import type { Target } from '../../model/types.js';

function target(host = 'localhost', port = 443): Target {
  return { host, port, families: ['v4'], checks: ['tls'], labels: {}, purpose: 'test', source: 'test' };
}

async function probe(port: number, options: Partial<TlsProbeOptions> = {}, ms = 10_000, host = 'localhost'): Promise<TlsResult> {
  const d = deadline(ms);
  try {
    return await probeTls(target(host, port), { dial: loopbackDial(port), ...options }, d.signal);
  } finally {
    d.clear();
  }
}

function verdicts(result: TlsResult): Record<string, string> {
  return Object.fromEntries(result.requirements.map((r) => [r.requirement, r.verdict === 'not_met' ? `not_met: ${r.detail}` : r.verdict]));
}

const M = 'met';
const A40 = 'not_met: alert 40 handshake_failure';
const A70 = 'not_met: alert 70 protocol_version';
const NO_EMS = 'not_met: EMS absent in ServerHello';

// Variant x requirement. Column order: TLS_REQUIREMENTS.
//            tls13   tls12-ecdsa  ems     group_p256                                      sig-ecdsa sig-pss alpn_h2                                 baseline
const TABLE: Record<TlsVariant | 'legacy-tls12', string[]> = {
  full: [M, M, M, M, M, M, M, M],
  'no-ems': [M, M, NO_EMS, M, M, M, M, M],
  'no-aes256': [A40, A40, M, M, M, M, M, A40],
  'no-p256': [M, M, M, 'not_met: group_p256/tls13: alert 40 handshake_failure', M, M, M, A40],
  'rsa-only': [M, A40, M, M, A40, M, M, M],
  'ecdsa-only': [M, M, M, M, M, A40, M, M],
  'no-h2': [M, M, M, M, M, M, 'not_met: selected http/1.1', 'not_met: alert 120 no_application_protocol'],
  'no-alpn': [M, M, M, M, M, M, 'not_met: no ALPN protocol selected', 'not_met: no ALPN protocol selected'],
  'tls12-only': [A70, M, M, M, M, M, M, M],
  'tls13-only': [M, A70, A70, M, M, M, M, M],
  'tls12-no-ems': [A70, M, NO_EMS, M, M, M, M, NO_EMS],
  intercepting: [M, M, M, M, M, M, M, M],
  'legacy-tls12': [A40, M, M, M, M, M, M, M],
};

describe('chain facts, cached per leaf', () => {
  it('gives the same facts for the same leaf, and its own facts to another leaf (a re-signing proxy)', async () => {
    const pki = await getPki();
    const full = await startTlsServer('full');
    const evil = await startTlsServer('intercepting');
    try {
      const first = await probe(full.port, { ca: [pki.rootCa], requirements: [] });
      const again = await probe(full.port, { ca: [pki.rootCa], requirements: [] });
      expect(again.certificate).toEqual(first.certificate);
      expect(first.certificate?.verified).toBe(true);
      const forged = await probe(evil.port, { ca: [pki.rootCa], requirements: [] });
      expect(forged.certificate?.verified).toBe(false);
      expect(forged.certificate?.issuerO).not.toBe(first.certificate?.issuerO);
      // The same leaf under another trust is judged afresh.
      const trusting = await probe(evil.port, { ca: [pki.rootCa, pki.evilCa], requirements: [] });
      expect(trusting.certificate?.verified).toBe(true);
    } finally {
      await full.close();
      await evil.close();
    }
  });
});

describe('a requirement over several versions', () => {
  it('is judged on the version the server speaks, and says which', async () => {
    const server = await startTlsServer('tls12-only');
    try {
      const result = await probe(server.port, { requirements: ['group_p256'] });
      const group = result.requirements[0]!;
      expect(group.verdict).toBe('met');
      expect(group.detail).toMatch(/^group_p256\/tls12: /);
      expect(group.detail).toContain('TLSv1.3 not spoken (alert 70 protocol_version)');
    } finally {
      await server.close();
    }
  });
});

describe('requirement constants', () => {
  it('lists every requirement once, in the exported order, each validated at load', () => {
    expect(REQUIREMENT_SPECS.map((s) => s.requirement)).toEqual([...TLS_REQUIREMENTS]);
    const ids = REQUIREMENT_SPECS.flatMap((s) => s.handshakes.map((h) => h.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...PREPARED_HANDSHAKES.keys()].sort()).toEqual([...ids].sort());
    expect(REQUIREMENT_SPECS.find((s) => s.requirement === 'group_p256')?.handshakes).toHaveLength(2);
  });

  it('rejects bad constants synchronously', () => {
    expect(() => buildClientContext({ cipherList: 'NOT-A-CIPHER' })).toThrow();
    expect(() => buildClientContext({ groups: 'P-999' })).toThrow();
    expect(() => buildClientContext({ sigalgs: 'ecdsa_nonsense' })).toThrow();
    expect(() => buildClientContext({ cipherList: 'TLS_AES_256_GCM_SHA384' })).toThrow(/TLS 1.3/);
    expect(() => buildClientContext({ cipherSuites: 'ECDHE-ECDSA-AES256-GCM-SHA384' })).toThrow(/TLS 1.3/);
    expect(() => buildClientContext({ minVersion: 'TLSv1.3', cipherList: 'ECDHE-ECDSA-AES256-GCM-SHA384' })).toThrow(/1.3-only/);
    expect(() => buildClientContext({ maxVersion: 'TLSv1.2', cipherSuites: 'TLS_AES_256_GCM_SHA384' })).toThrow(/1.2-only/);
    expect(() => buildClientContext({ alpn: ['h2', ''] })).toThrow(/ALPN/);
    expect(() => buildClientContext({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', cipherSuites: 'TLS_AES_256_GCM_SHA384' })).not.toThrow();
  });
});

describe('classifyHandshakeFailure', () => {
  const wire = { bytesSeen: 0 };
  const err = (code: string, message = code) => Object.assign(new Error(message), { code });
  it('alerts and local no-cipher/no-protocol errors are verdicts', () => {
    expect(classifyHandshakeFailure(err('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'x:SSL alert number 40\n'), wire)).toEqual({ verdict: true, detail: 'alert 40 handshake_failure' });
    expect(classifyHandshakeFailure(err('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), wire)).toEqual({ verdict: true, detail: 'alert certificate_required' });
    expect(classifyHandshakeFailure(err('ERR_SSL_UNSUPPORTED_PROTOCOL'), wire)).toEqual({ verdict: true, detail: 'local unsupported_protocol' });
    expect(classifyHandshakeFailure(err('ERR_SSL_NO_CIPHERS_AVAILABLE'), wire).verdict).toBe(true);
    expect(classifyHandshakeFailure(err('ERR_SSL_WRONG_CIPHER_RETURNED'), wire).verdict).toBe(true);
    // an alert seen on the wire wins over the reset that followed it
    expect(classifyHandshakeFailure(err('ECONNRESET'), { bytesSeen: 7, alert: { level: 2, description: 70 } })).toEqual({ verdict: true, detail: 'alert 70 protocol_version' });
  });

  it('everything else is untested, with a reason', () => {
    const reason = (e: unknown, w: Parameters<typeof classifyHandshakeFailure>[1] = wire) => {
      const c = classifyHandshakeFailure(e, w);
      return c.verdict ? 'verdict' : c.reason;
    };
    expect(reason(err('ECONNRESET'))).toBe('reset');
    expect(reason(err('EPIPE'))).toBe('reset');
    expect(reason(err('ERR_SSL_UNEXPECTED_EOF_WHILE_READING'))).toBe('reset');
    expect(reason(err('ETIMEDOUT'))).toBe('timeout');
    expect(reason(err('ECONNREFUSED'))).toBe('refused');
    expect(reason(err('EHOSTUNREACH'))).toBe('unreachable');
    expect(reason(err('ERR_SSL_WRONG_VERSION_NUMBER'))).toBe('tls_handshake_failed');
    expect(reason(err('ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC'))).toBe('tls_handshake_failed');
    expect(reason(err('ECONNRESET'), { bytesSeen: 20, garbage: 'not a TLS record' })).toBe('tls_handshake_failed');
    expect(reason(new Error('no code'))).toBe('unreachable');
  });
});

describe('tls-certs', () => {
  let pki: Pki;
  beforeAll(async () => {
    pki = await getPki();
  });
  const x = (pem: string) => new X509Certificate(pem);

  it('splits PEM bundles and skips what does not parse', () => {
    const certs = parsePemCertificates([pki.rootCa + pki.intermediateCa, '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----', 'junk']);
    expect(certs.map((c) => dnField(c.subject, 'CN'))).toEqual(['Egress Test Root CA', 'Egress Test Issuing CA']);
  });

  it('reads CN and O from Node DN strings', () => {
    expect(dnField('C=US\nO=Let\'s Encrypt\nCN=R11', 'O')).toBe("Let's Encrypt");
    expect(dnField('C=US\nO=Let\'s Encrypt\nCN=R11', 'CN')).toBe('R11');
    expect(dnField('CN=a + O=b', 'O')).toBe('b');
    expect(dnField('OU=x', 'O')).toBe('');
  });

  it('builds the chain to an anchor: signatures, intermediates, dates', () => {
    const leaf = x(pki.ecdsa.cert);
    const int = x(pki.intermediateCa);
    const root = x(pki.rootCa);
    const evil = x(pki.evilCa);
    expect(chainsTo([leaf, int], [root])).toBe(true);
    expect(chainsTo([leaf, int, root], [root])).toBe(true);
    expect(chainsTo([leaf], [root])).toBe(false); // intermediate missing
    expect(chainsTo([leaf], [int])).toBe(true); // the intermediate itself as an anchor
    expect(chainsTo([leaf, int], [evil])).toBe(false);
    expect(chainsTo([leaf, int], [])).toBe(false);
    expect(chainsTo([x(pki.evilEcdsa.cert), evil], [evil])).toBe(true);
    // The intermediate expires before the leaf: after that, no path.
    const afterIntermediate = Date.parse(int.validTo) + 1000;
    expect(chainsTo([leaf, int], [root], afterIntermediate)).toBe(false);
    // A forged "intermediate" with the right name but another key does not verify.
    expect(chainsTo([x(pki.evilEcdsa.cert), int], [root])).toBe(false);
  });

  it('certFacts: issuer match, trust and interception rules', () => {
    const chain = [x(pki.ecdsa.cert), x(pki.intermediateCa)];
    const anchors = { system: [x(pki.rootCa)], caFile: [x(pki.evilCa)] };
    expect(matchesExpectedIssuer(chain, ['EGRESS'])).toBe(true);
    expect(matchesExpectedIssuer(chain, ['evil'])).toBe(false);
    expect(certFacts({ chain, authorized: true, anchors })).toMatchObject({ trust: 'system', intercepted: false, chainLength: 2 });
    expect(certFacts({ chain, authorized: true, anchors, expectedIssuers: ['Zscaler'] })).toMatchObject({ trust: 'system', intercepted: true });
    expect(certFacts({ chain, authorized: false, authorizationError: 'CERT_HAS_EXPIRED', anchors })).toMatchObject({
      verified: false,
      trust: 'none',
      authorizationError: 'CERT_HAS_EXPIRED',
    });
    const evilChain = [x(pki.evilRsa.cert), x(pki.evilCa)];
    expect(certFacts({ chain: evilChain, authorized: true, anchors })).toMatchObject({ trust: 'ca_file', intercepted: true, issuerO: 'Evil Inspect Corp' });
    expect(certFacts({ chain: evilChain, authorized: true, anchors, expectedIssuers: ['  ', 'Evil Inspect'] })).toMatchObject({ intercepted: false });
    expect(certFacts({ chain: [], authorized: false, anchors })).toBeUndefined();
  });
});

describe('probeTls against loopback servers', () => {
  let pki: Pki;
  const servers = new Map<string, RunningServer>();
  const port = (v: TlsVariant | RawVariant) => servers.get(v)!.port;

  beforeAll(async () => {
    pki = await getPki();
    await Promise.all([
      ...TLS_VARIANTS.map(async (v) => servers.set(v, await startTlsServer(v))),
      ...RAW_VARIANTS.map(async (v) => servers.set(v, await startRawServer(v))),
    ]);
  });
  afterAll(async () => {
    await Promise.all([...servers.values()].map((s) => s.close()));
  });

  describe('verdict table', () => {
    for (const [variant, row] of Object.entries(TABLE)) {
      it(`${variant}`, async () => {
        const result = await probe(port(variant as TlsVariant), { ca: [pki.rootCa], expectedIssuers: ['Egress Test'] });
        const expected = Object.fromEntries(TLS_REQUIREMENTS.map((r, i) => [r, row[i]!]));
        expect(verdicts(result)).toEqual(expected);
        for (const r of result.requirements) {
          expect(r.durationSeconds).toBeGreaterThan(0);
          expect(r.reason).toBeUndefined();
        }
        const allMet = row.every((v) => v === M);
        expect(result.handshake).toBeDefined();
        expect(result.certificate).toBeDefined();
        expect(result.ok).toBe(allMet && variant !== 'intercepting');
        if (variant === 'intercepting') expect(result.reason).toBe('tls_cert_invalid');
        else expect(result.reason).toBe(allMet ? undefined : 'tls_handshake_failed');
      });
    }
  });

  it('full server: exact handshake and certificate facts', async () => {
    const result = await probe(port('full'), { ca: [pki.rootCa], expectedIssuers: ['Egress Test'] });
    expect(result.ok).toBe(true);
    expect(result.reason).toBeUndefined();
    const { handshakeSeconds, ...facts } = result.handshake!;
    expect(facts).toEqual({ version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', group: 'X25519', alpn: 'h2', ems: null });
    expect(handshakeSeconds).toBeGreaterThan(0);
    expect(handshakeSeconds).toBeLessThan(5);
    const leaf = new X509Certificate(pki.ecdsa.cert); // TLS 1.3 default client: the ECDSA certificate
    const intermediate = new X509Certificate(pki.intermediateCa);
    expect(result.certificate).toEqual({
      leafNotAfter: Date.parse(leaf.validTo) / 1000,
      earliestNotAfter: Date.parse(intermediate.validTo) / 1000,
      issuerCN: 'Egress Test Issuing CA',
      issuerO: 'Egress Test',
      verified: true,
      trust: 'ca_file',
      intercepted: false,
      subjectCN: 'localhost',
      chainLength: 3,
    });
    expect(result.certificate!.earliestNotAfter).toBeLessThan(result.certificate!.leafNotAfter);
  });

  it('TLS 1.2 servers: EMS and group in the unconstrained facts', async () => {
    const with12 = await probe(port('tls12-only'), { ca: [pki.rootCa] });
    expect(with12.handshake).toMatchObject({ version: 'TLSv1.2', cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', group: 'X25519', alpn: 'h2', ems: true });
    const without = await probe(port('tls12-no-ems'), { ca: [pki.rootCa] });
    expect(without.handshake).toMatchObject({ version: 'TLSv1.2', ems: false });
    expect((await probe(port('no-h2'), { ca: [pki.rootCa] })).handshake?.alpn).toBe('http/1.1');
    expect((await probe(port('no-alpn'), { ca: [pki.rootCa] })).handshake?.alpn).toBe('none');
    expect((await probe(port('no-aes256'), { ca: [pki.rootCa] })).handshake?.cipher).toBe('TLS_AES_128_GCM_SHA256');
  });

  describe('certificates, trust and interception', () => {
    it('intercepting proxy CA trusted through ca_file, expected issuers say Egress Test: verified, ca_file, intercepted', async () => {
      // ca_file content is one PEM bundle holding both CAs
      const result = await probe(port('intercepting'), { ca: [pki.rootCa + pki.evilCa], expectedIssuers: ['Egress Test'] });
      expect(result.certificate).toMatchObject({
        verified: true,
        trust: 'ca_file',
        intercepted: true,
        issuerCN: 'Intercepting Proxy CA',
        issuerO: 'Evil Inspect Corp',
        chainLength: 2,
      });
      expect(result.certificate!.leafNotAfter).toBe(Date.parse(new X509Certificate(pki.evilEcdsa.cert).validTo) / 1000);
      expect(result.ok).toBe(true); // interception has its own metric
    });

    it('intercepting proxy CA not trusted: not verified, still intercepted, requirements still judged', async () => {
      const result = await probe(port('intercepting'), { ca: [pki.rootCa], expectedIssuers: ['Egress Test'] });
      expect(result.certificate).toMatchObject({ verified: false, trust: 'none', intercepted: true, authorizationError: 'SELF_SIGNED_CERT_IN_CHAIN' });
      expect(result.reason).toBe('tls_cert_invalid');
      expect(result.requirements.every((r) => r.verdict === 'met')).toBe(true);
    });

    it('without expected issuers: intercepted iff only ca_file (not the system roots) vouches for the chain', async () => {
      // Pretend the test root is a system root and the proxy CA came from tls.ca_file.
      const opts = { systemRoots: [pki.rootCa], ca: [pki.evilCa] };
      const real = await probe(port('full'), opts);
      expect(real.certificate).toMatchObject({ verified: true, trust: 'system', intercepted: false });
      const proxied = await probe(port('intercepting'), opts);
      expect(proxied.certificate).toMatchObject({ verified: true, trust: 'ca_file', intercepted: true });
      // A chain in both stores counts as system.
      const both = await probe(port('full'), { systemRoots: [pki.rootCa], ca: [pki.rootCa] });
      expect(both.certificate).toMatchObject({ trust: 'system', intercepted: false });
      // Nothing trusts the proxy: unverified, not "intercepted" by the trust rule.
      const untrusted = await probe(port('intercepting'), { systemRoots: [pki.rootCa] });
      expect(untrusted.certificate).toMatchObject({ verified: false, trust: 'none', intercepted: false });
    });

    it('expected issuers match O or CN, case-insensitively, as substrings', async () => {
      const run = async (expectedIssuers: string[]) => (await probe(port('full'), { ca: [pki.rootCa], expectedIssuers, requirements: [] })).certificate!.intercepted;
      expect(await run(['egress test'])).toBe(false);
      expect(await run(['issuing'])).toBe(false);
      expect(await run(['DigiCert', "Let's Encrypt"])).toBe(true);
      expect(await run([])).toBe(true); // no expected issuers: trust rule; root only in ca_file
    });

    it('only the real system roots: not verified, every requirement still met', async () => {
      const result = await probe(port('full'));
      expect(result.certificate).toMatchObject({ verified: false, trust: 'none', intercepted: false, authorizationError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' });
      expect(result.ok).toBe(false);
      expect(result.reason).toBe('tls_cert_invalid');
      expect(result.requirements.map((r) => r.verdict)).toEqual(TLS_REQUIREMENTS.map(() => 'met'));
    });

    it('host name checked against the SAN: catalog name ok, other name not verified', async () => {
      const ok = await probe(port('full'), { ca: [pki.rootCa] }, 10_000, 'packages.wolfi.dev');
      expect(ok.certificate?.verified).toBe(true);
      const viaOption = await probe(port('full'), { ca: [pki.rootCa], servername: 'cgr.dev' });
      expect(viaOption.certificate?.verified).toBe(true);
      const wrong = await probe(port('full'), { ca: [pki.rootCa], servername: 'wrong.example' });
      expect(wrong.certificate).toMatchObject({ verified: false, trust: 'none', authorizationError: 'ERR_TLS_CERT_ALTNAME_INVALID' });
      expect(wrong.requirements.every((r) => r.verdict === 'met')).toBe(true);
    });
  });

  describe('SNI, sessions and sockets', () => {
    let sniServer: ReturnType<typeof createTlsServer>;
    let sniPort = 0;
    const seenSni: string[] = [];
    let connections = 0;
    beforeAll(async () => {
      const ctx = createSecureContext({ key: [pki.ecdsa.key, pki.rsa.key], cert: [pki.ecdsa.chain, pki.rsa.chain] });
      sniServer = createTlsServer(
        {
          key: [pki.ecdsa.key, pki.rsa.key],
          cert: [pki.ecdsa.chain, pki.rsa.chain],
          ALPNProtocols: ['h2', 'http/1.1'],
          // Called once per ClientHello that carries SNI.
          SNICallback: (name, cb) => {
            seenSni.push(name);
            cb(null, ctx);
          },
        },
        (s: TLSSocket) => s.on('error', () => {}),
      );
      sniServer.on('connection', (s: Socket) => {
        connections++;
        s.on('error', () => {});
      });
      sniServer.on('tlsClientError', () => {});
      await new Promise<void>((resolve) => sniServer.listen(0, '127.0.0.1', resolve));
      sniPort = (sniServer.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => sniServer.close(() => resolve()));
    });

    it('every handshake sends the host name as SNI; none resumes a session', async () => {
      seenSni.length = 0;
      connections = 0;
      for (let i = 0; i < 3; i++) {
        // A resumed session would read as 'untested (internal_error)': ok proves none was.
        const result = await probe(sniPort, { ca: [pki.rootCa] }, 10_000, 'cgr.dev');
        expect(result.ok).toBe(true);
      }
      // 3 probes x (1 unconstrained + 9 requirement handshakes), each on its own connection, all with SNI.
      expect(connections).toBe(30);
      expect(seenSni).toHaveLength(30);
      expect(new Set(seenSni)).toEqual(new Set(['cgr.dev']));
    });

    it('an IP literal is verified against the IP SAN but not sent as SNI', async () => {
      seenSni.length = 0;
      connections = 0;
      const result = await probe(sniPort, { ca: [pki.rootCa] }, 10_000, '127.0.0.1');
      expect(result.ok).toBe(true);
      expect(result.certificate?.verified).toBe(true);
      expect(connections).toBe(10);
      expect(seenSni).toEqual([]);
    });

    it('at most `concurrency` handshakes at once, one dial per handshake, every socket closed, no timer left', async () => {
      const resourceCount = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'TCPSocketWrap').length;
      const before = resourceCount();
      for (const concurrency of [undefined, 1, 5]) {
        let open = 0;
        let max = 0;
        let dials = 0;
        const sockets: Socket[] = [];
        const inner = loopbackDial(port('full'));
        const dial: Dial = async (signal) => {
          dials++;
          const r = await inner(signal);
          if (r.ok) {
            open++;
            max = Math.max(max, open);
            sockets.push(r.socket);
            r.socket.once('close', () => open--);
          }
          return r;
        };
        const d = deadline(10_000);
        const result = await probeTls(target(), { dial, ca: [pki.rootCa], ...(concurrency !== undefined && { concurrency }) }, d.signal);
        d.clear();
        expect(result.ok).toBe(true);
        expect(dials).toBe(10);
        expect(max).toBeLessThanOrEqual(concurrency ?? 3);
        if (concurrency === 1) expect(max).toBe(1);
        expect(sockets.every((s) => s.destroyed)).toBe(true);
      }
      expect(await eventually(() => resourceCount() <= before)).toBe(true);
      expect(await eventually(() => servers.get('full')!.connections() === 0)).toBe(true);
    });

    it('checks only the requested requirements', async () => {
      let dials = 0;
      const inner = loopbackDial(port('full'));
      const result = await probeTls(target(), { dial: (s) => (dials++, inner(s)), ca: [pki.rootCa], requirements: ['alpn_h2', 'group_p256'] }, new AbortController().signal);
      expect(result.requirements.map((r) => r.requirement)).toEqual(['group_p256', 'alpn_h2']);
      expect(dials).toBe(4);
    });
  });

  describe('paths that cannot be tested are never "not met"', () => {
    const allUntested = (result: TlsResult, reason: string) => {
      expect(result.requirements).toHaveLength(TLS_REQUIREMENTS.length);
      for (const r of result.requirements) {
        expect(r.verdict).toBe('untested');
        expect(r.reason).toBe(reason);
      }
      expect(result.ok).toBe(false);
      expect(result.reason).toBe(reason);
      expect(result.handshake).toBeUndefined();
      expect(result.certificate).toBeUndefined();
    };

    it('a server that never answers: every requirement untested (timeout), within the probe deadline', async () => {
      const started = Date.now();
      const result = await probe(port('silent'), { handshakeTimeoutMs: 60_000 }, 1200);
      const elapsed = Date.now() - started;
      allUntested(result, 'timeout');
      expect(result.requirements[0]!.detail).toBe('no answer before the deadline');
      expect(elapsed).toBeGreaterThanOrEqual(1100);
      expect(elapsed).toBeLessThan(1700);
      expect(await eventually(() => servers.get('silent')!.connections() === 0)).toBe(true);
    });

    it('per-handshake deadline: a silent server costs about rounds x handshakeTimeoutMs', async () => {
      const started = Date.now();
      const result = await probe(port('silent'), { handshakeTimeoutMs: 200 }, 10_000);
      allUntested(result, 'timeout');
      // 10 handshakes, 3 at a time: 4 rounds of 200 ms
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('a server that stalls mid-handshake: untested (timeout), detail says where', async () => {
      const result = await probe(port('stall'), { handshakeTimeoutMs: 300 }, 10_000);
      allUntested(result, 'timeout');
      for (const r of result.requirements) expect(r.detail).toMatch(/stalled after 100 bytes/);
    });

    it('a server that resets: untested (reset)', async () => {
      allUntested(await probe(port('reset')), 'reset');
    });

    it('a server that closes without an alert: untested (reset)', async () => {
      allUntested(await probe(port('close')), 'reset');
    });

    it('a server that answers garbage: untested, reason tls_handshake_failed', async () => {
      const result = await probe(port('garbage'));
      allUntested(result, 'tls_handshake_failed');
      expect(result.requirements[0]!.detail).toMatch(/^not a TLS answer/);
    });

    it('a refused port: untested (refused)', async () => {
      allUntested(await probe(await refusedPort()), 'refused');
    });

    it('a server that answers with an alert: every requirement not met, reason tls_handshake_failed', async () => {
      const result = await probe(port('alert'));
      for (const r of result.requirements) {
        expect(r.verdict).toBe('not_met');
        expect(r.detail).toMatch(/alert 40 handshake_failure$/);
      }
      expect(result.reason).toBe('tls_handshake_failed');
      expect(result.handshake).toBeUndefined();
    });

    it('a path that closes an offer it cannot answer (an RSA-only TLS terminator), where the default handshake works: not met after a second try', async () => {
      const server = servers.get('closes-ecdsa-only')!;
      const result = await probe(server.port, { ca: [pki.rootCa] });
      expect(result.handshake?.version).toBe('TLSv1.3');
      const byName = Object.fromEntries(result.requirements.map((r) => [r.requirement, r]));
      for (const name of ['tls12_ecdhe_ecdsa_aes_256_gcm_sha384', 'sig_ecdsa_secp256r1_sha256'] as const) {
        expect(byName[name]).toMatchObject({ verdict: 'not_met' });
        expect(byName[name]?.detail).toMatch(/closed without a TLS alert, twice \(connection closed without an alert after 0 bytes \(ECONNRESET\)\), where the unconstrained handshake succeeded: the path refuses this offer$/);
      }
      for (const name of ['tls13_aes_256_gcm_sha384', 'sig_rsa_pss_rsae_sha256', 'alpn_h2'] as const) expect(byName[name]?.verdict).toBe('met');
      expect(result.reason).toBe('tls_handshake_failed');
    });

    it('a close that is not repeated stays untested: the path is not judged on one close', async () => {
      // The first connection of each constrained offer is closed; the second goes through.
      const upstream = servers.get('full')!;
      const handshakes = REQUIREMENT_SPECS.reduce((n, spec) => n + spec.handshakes.length, 0);
      let calls = 0;
      const flaky: Dial = (signal) => {
        calls += 1;
        return loopbackDial(calls > 1 && calls <= 1 + handshakes ? servers.get('close')!.port : upstream.port)(signal);
      };
      const result = await probeTls(target('localhost', upstream.port), { dial: flaky, ca: [pki.rootCa], concurrency: 1 }, AbortSignal.timeout(20_000));
      // Every constrained offer was closed once and answered on its second try: judged on the second.
      expect(result.requirements.map((r) => `${r.requirement} ${r.verdict}`)).toEqual(TLS_REQUIREMENTS.map((r) => `${r} met`));
      expect(calls).toBe(1 + 2 * handshakes);
    });

    it('a proxy that answers 200 and closes the tunnel: untested (proxy_closed), not the host resetting', async () => {
      const upstream = servers.get('full')!;
      const p = await startProxy({ mode: 'close-after-200', map: { [`cgr.dev:${upstream.port}`]: upstream.port } });
      try {
        const dial = proxyDial({ name: 'corp', url: new URL(p.url) }, 'cgr.dev', upstream.port);
        const result = await probeTls(target('cgr.dev', upstream.port), { dial }, AbortSignal.timeout(10_000));
        allUntested(result, 'proxy_closed');
        expect(result.requirements[0]!.detail).toContain('the proxy closed the tunnel');
        expect(p.connects.map((c) => c.answer)).toContain('200-then-close');
        // The same close straight from the host is the host's doing.
        allUntested(await probe(port('close')), 'reset');
      } finally {
        await p.close();
      }
    });

    it('dial failures pass their reason through (proxy errors included)', async () => {
      const failing: Dial = () => Promise.resolve({ ok: false, reason: 'proxy_denied', message: 'CONNECT 403', durationSeconds: 0.01 });
      allUntested(await probeTls(target(), { dial: failing }, new AbortController().signal), 'proxy_denied');
      const throwing: Dial = () => {
        throw Object.assign(new Error('boom'), { code: 'EHOSTUNREACH' });
      };
      allUntested(await probeTls(target(), { dial: throwing }, new AbortController().signal), 'unreachable');
      const rejecting: Dial = () => Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
      allUntested(await probeTls(target(), { dial: rejecting }, new AbortController().signal), 'refused');
    });

    it('a dial that honours the deadline reports its own reason (proxy_timeout)', async () => {
      const proxy: Dial = (signal) =>
        new Promise<DialResult>((resolve) => {
          signal.addEventListener('abort', () => resolve({ ok: false, reason: 'proxy_timeout', message: 'no CONNECT answer', durationSeconds: 0.1 }), { once: true });
        });
      allUntested(await probeTls(target(), { dial: proxy, handshakeTimeoutMs: 100 }, new AbortController().signal), 'proxy_timeout');
    });

    it('a dial that ignores the signal still ends at the deadline; its late socket is destroyed', async () => {
      const late: Socket[] = [];
      const inner = loopbackDial(port('full'));
      const slow: Dial = () =>
        new Promise<DialResult>((resolve) => {
          setTimeout(() => {
            void inner(new AbortController().signal).then((r) => {
              if (r.ok) late.push(r.socket);
              resolve(r);
            });
          }, 400);
        });
      const started = Date.now();
      const result = await probeTls(target(), { dial: slow, handshakeTimeoutMs: 100 }, new AbortController().signal);
      expect(Date.now() - started).toBeLessThan(1000);
      allUntested(result, 'timeout');
      expect(await eventually(() => late.length === 10 && late.every((s) => s.destroyed))).toBe(true);
    });

    it('a partly untestable path: the untested requirement says why, the others are judged', async () => {
      // concurrency 1: dials happen in task order; #5 is group_p256's TLS 1.2 handshake.
      const failNth = (p: number, n: number): Dial => {
        let i = 0;
        const inner = loopbackDial(p);
        return (signal) => (i++ === n ? Promise.resolve({ ok: false, reason: 'proxy_bad_gateway', message: '502', durationSeconds: 0 }) : inner(signal));
      };
      const full = await probeTls(target(), { dial: failNth(port('full'), 5), ca: [pki.rootCa], concurrency: 1 }, new AbortController().signal);
      const group = full.requirements.find((r) => r.requirement === 'group_p256')!;
      expect(group).toMatchObject({ verdict: 'untested', reason: 'proxy_bad_gateway', detail: 'group_p256/tls12: 502' });
      expect(full.requirements.filter((r) => r.verdict === 'met')).toHaveLength(7);
      expect(full.reason).toBe('proxy_bad_gateway');
      // One half not met and the other untested: the requirement is known to be not met.
      const noP256 = await probeTls(target(), { dial: failNth(port('no-p256'), 5), ca: [pki.rootCa], concurrency: 1 }, new AbortController().signal);
      expect(noP256.requirements.find((r) => r.requirement === 'group_p256')).toMatchObject({
        verdict: 'not_met',
        detail: 'group_p256/tls13: alert 40 handshake_failure',
      });
      // No requirement series is absent then, so the overall reason is the failed requirement.
      expect(noP256.reason).toBe('tls_handshake_failed');
    });

    it('a dialled socket that arrives paused, or already closed by the peer', async () => {
      const inner = loopbackDial(port('full'));
      const paused: Dial = async (signal) => {
        const r = await inner(signal);
        if (r.ok) r.socket.pause();
        return r;
      };
      const ok = await probeTls(target(), { dial: paused, ca: [pki.rootCa], handshakeTimeoutMs: 2000 }, new AbortController().signal);
      expect(ok.ok).toBe(true);
      const closeInner = loopbackDial(port('close'));
      const ended: Dial = async (signal) => {
        const r = await closeInner(signal);
        if (r.ok) {
          // Let the peer's FIN arrive and be read before the probe gets the socket.
          r.socket.write('x');
          await new Promise<void>((resolve) => r.socket.once('end', () => resolve()).resume());
        }
        return r;
      };
      const started = Date.now();
      allUntested(await probeTls(target(), { dial: ended, handshakeTimeoutMs: 3000 }, new AbortController().signal), 'reset');
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('an already aborted signal: everything untested (timeout), nothing dialled', async () => {
      let dials = 0;
      const ac = new AbortController();
      ac.abort();
      const result = await probeTls(target(), { dial: () => (dials++, Promise.resolve({ ok: false, reason: 'refused', message: '', durationSeconds: 0 })) }, ac.signal);
      allUntested(result, 'timeout');
      expect(dials).toBe(0);
    });
  });
});

describe('requirement ids', () => {
  it('are the metric label values', () => {
    const ids: TlsRequirement[] = [...TLS_REQUIREMENTS];
    for (const id of ids) expect(id).toMatch(/^[a-z0-9_]+$/);
  });
});
