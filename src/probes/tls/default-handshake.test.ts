// The http check connects natively (no WireTap), and the tls check judges that
// handshake as its default one only when Node alone shows every fact the server flight
// would: TLS 1.3 with a group getEphemeralKeyInfo() names as the key_share does. A TLS
// 1.2 handshake (EMS and the signature scheme are in the flight only) is declined: the
// tls check makes its own, observed one, and its facts and verdicts are those of a tls
// check alone. Real HTTP/2 origins on 127.0.0.1 that count the connections they accept.
import { createSecureServer } from 'node:http2';
import type { SecureServerOptions } from 'node:http2';
import { rootCertificates } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPki } from '../../../test/fixtures/pki.js';
import type { Pki } from '../../../test/fixtures/pki.js';
import { trackSockets } from '../../../test/fixtures/http-servers.js';
import { listen } from '../../../test/fixtures/listen.js';
import { loopbackDial } from '../../../test/fixtures/tls-servers.js';
import { deadline } from '../../../test/helpers/timing.js';
import type { Target } from '../../model/types.js';
import { probeHttp } from '../http/http.js';
import { SharedDefaultHandshake, probeTls } from './tls.js';
import type { TlsRequirement, TlsResult } from './tls.js';
import { factsWithoutWire } from './handshake.js';
import { dialTls, trustedContext } from './tls-client.js';

interface Origin {
  port: number;
  accepted: () => number;
  close: () => Promise<void>;
}

let pki: Pki;
const origins = new Map<string, Origin>();

/** An HTTP/2 origin (dual ECDSA and RSA certificates, EMS on unless secureOptions says) with these TLS options. */
async function h2Origin(options: SecureServerOptions): Promise<Origin> {
  const server = createSecureServer({ key: [pki.ecdsa.key, pki.rsa.key], cert: [pki.ecdsa.chain, pki.rsa.chain], allowHTTP1: true, ...options }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  server.on('tlsClientError', () => {});
  server.on('sessionError', () => {});
  let accepted = 0;
  server.on('connection', () => (accepted += 1));
  const t = trackSockets(server);
  const port = await listen(server);
  return { port, accepted: () => accepted, close: t.close };
}

const ORIGINS: Record<string, SecureServerOptions> = {
  'tls13-x25519': {},
  // The client's first key share is X25519: the server asks for P-256 (HelloRetryRequest).
  'tls13-p256': { ecdhCurve: 'P-256' },
  'tls13-ffdhe2048': { ecdhCurve: 'ffdhe2048' },
  'tls12-ems': { maxVersion: 'TLSv1.2' },
  'tls12-no-ems': { maxVersion: 'TLSv1.2', secureOptions: 1 },
};

beforeAll(async () => {
  pki = await getPki();
  caList = [pki.rootCa];
  for (const [name, options] of Object.entries(ORIGINS)) origins.set(name, await h2Origin(options));
});

afterAll(async () => {
  await Promise.all([...origins.values()].map((o) => o.close()));
});

function target(port: number): Target {
  return { host: 'localhost', port, families: ['v4'], checks: ['tls', 'http'], labels: {}, purpose: 'test', source: 'test' };
}

/** What the tls check reported, without times. */
function facts(tls: TlsResult) {
  const h = tls.handshake;
  const handshake = h === undefined ? undefined : { version: h.version, cipher: h.cipher, group: h.group, alpn: h.alpn, ems: h.ems };
  return { ok: tls.ok, reason: tls.reason, handshake, certificate: tls.certificate, requirements: tls.requirements.map((r) => `${r.requirement} ${r.verdict} ${r.detail}`) };
}

/** One array: the tls check keys its trust by the CA list it is given, as the config hands every check the same one. */
let caList: string[];
const ca = (): string[] => caList;

/** The http check's round on `origin`, shown to a share, then the tls check given that share: the tls check's result and the connections it made. */
async function sharedRound(origin: Origin, requirements: readonly TlsRequirement[]): Promise<{ tls: TlsResult; connections: number }> {
  const t = target(origin.port);
  const dial = loopbackDial(origin.port);
  const share = new SharedDefaultHandshake(t, { ca: ca() });
  const d = deadline(10_000);
  try {
    const http = await probeHttp(t, { dial, ca: ca(), onHandshake: share.witness }, d.signal);
    expect(http).toMatchObject({ ok: true, protocol: '2', status: 200 });
    const before = origin.accepted();
    const tls = await probeTls(t, { dial, ca: ca(), requirements, shared: share }, d.signal);
    return { tls, connections: origin.accepted() - before };
  } finally {
    d.clear();
  }
}

/** The tls check alone on `origin`: every handshake its own. */
async function alone(origin: Origin, requirements: readonly TlsRequirement[]): Promise<TlsResult> {
  const d = deadline(10_000);
  try {
    return await probeTls(target(origin.port), { dial: loopbackDial(origin.port), ca: ca(), requirements }, d.signal);
  } finally {
    d.clear();
  }
}

describe("the tls check judging the http check's native handshake", () => {
  it('TLS 1.3: taken as the default handshake; the group from getEphemeralKeyInfo() is the key_share one (X25519, and P-256 after a HelloRetryRequest)', async () => {
    for (const [name, group] of [
      ['tls13-x25519', 'X25519'],
      ['tls13-p256', 'P-256'],
    ] as const) {
      const origin = origins.get(name)!;
      const shared = await sharedRound(origin, []);
      expect(shared.connections).toBe(0);
      expect(shared.tls.handshake).toMatchObject({ version: 'TLSv1.3', group, alpn: 'h2', ems: null, madeBy: 'http' });
      expect(facts(shared.tls)).toEqual(facts(await alone(origin, [])));
    }
  });

  it('TLS 1.3 over a finite-field group: declined (Node says only "DH"), and the own handshake names it', async () => {
    const origin = origins.get('tls13-ffdhe2048')!;
    const shared = await sharedRound(origin, []);
    expect(shared.connections).toBe(1);
    expect(shared.tls.handshake?.madeBy).toBeUndefined();
    expect(shared.tls.handshake).toMatchObject({ version: 'TLSv1.3', group: 'ffdhe2048' });
  });

  it('TLS 1.2: declined; the own handshake reads EMS, and the requirement handshakes the signature scheme, exactly as a tls check alone', async () => {
    const requirements: TlsRequirement[] = ['extended_master_secret', 'sig_ecdsa_secp256r1_sha256', 'sig_rsa_pss_rsae_sha256', 'baseline'];
    for (const [name, ems] of [
      ['tls12-ems', true],
      ['tls12-no-ems', false],
    ] as const) {
      const origin = origins.get(name)!;
      const shared = await sharedRound(origin, requirements);
      // Its own default handshake, and one per requirement.
      expect(shared.connections).toBe(1 + requirements.length);
      expect(shared.tls.handshake?.madeBy).toBeUndefined();
      expect(shared.tls.handshake).toMatchObject({ version: 'TLSv1.2', group: 'X25519', alpn: 'h2', ems });
      expect(facts(shared.tls)).toEqual(facts(await alone(origin, requirements)));
      const verdicts = Object.fromEntries(shared.tls.requirements.map((r) => [r.requirement, r.verdict]));
      expect(verdicts).toEqual({ extended_master_secret: ems ? 'met' : 'not_met', sig_ecdsa_secp256r1_sha256: 'met', sig_rsa_pss_rsae_sha256: 'met', baseline: ems ? 'met' : 'not_met' });
    }
  });

  it('factsWithoutWire: a native TLS 1.3 handshake shows every fact, a native TLS 1.2 one does not, an observed one always does', async () => {
    const connect = async (origin: Origin, observeWire: boolean) => {
      const d = deadline(5000);
      try {
        const r = await dialTls(loopbackDial(origin.port), { servername: 'localhost', secureContext: trustedContext(rootCertificates, ca()), alpn: ['h2', 'http/1.1'], observeWire, signal: d.signal });
        if (!r.ok) throw new Error(r.message);
        const readable = factsWithoutWire(r);
        r.socket.destroy();
        r.transport.destroy();
        return { readable, wire: r.wire !== undefined };
      } finally {
        d.clear();
      }
    };
    expect(await connect(origins.get('tls13-x25519')!, false)).toEqual({ readable: true, wire: false });
    expect(await connect(origins.get('tls12-ems')!, false)).toEqual({ readable: false, wire: false });
    expect(await connect(origins.get('tls12-ems')!, true)).toEqual({ readable: true, wire: true });
  });
});
