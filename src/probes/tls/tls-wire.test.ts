import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPki } from '../../../test/fixtures/pki.js';
import { startTlsServer } from '../../../test/fixtures/tls-servers.js';
import type { RunningServer, TlsVariant } from '../../../test/fixtures/tls-servers.js';
import { sessionEmsFlag } from '../../../test/fixtures/session-der.js';
import {
  MAX_BYTES,
  ServerFlightParser,
  WireTap,
  alertName,
  groupName,
  parseServerKeyExchange,
  signatureSchemeName,
  versionName,
} from './tls-wire.js';

// ---- synthetic TLS bytes -------------------------------------------------------

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function record(type: number, body: Buffer, version = 0x0303): Buffer {
  return Buffer.concat([Buffer.from([type]), u16(version), u16(body.length), body]);
}

function handshake(type: number, body: Buffer): Buffer {
  const len = Buffer.alloc(3);
  len.writeUIntBE(body.length, 0, 3);
  return Buffer.concat([Buffer.from([type]), len, body]);
}

function ext(type: number, data: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([u16(type), u16(data.length), data]);
}

const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

function serverHelloBody(opts: { cipher: number; exts: Buffer[]; random?: Buffer; sessionId?: Buffer }): Buffer {
  const sid = opts.sessionId ?? Buffer.alloc(32, 7);
  const exts = Buffer.concat(opts.exts);
  return Buffer.concat([u16(0x0303), opts.random ?? Buffer.alloc(32, 1), Buffer.from([sid.length]), sid, u16(opts.cipher), Buffer.from([0]), u16(exts.length), exts]);
}

function ecdheSke(curve: number, scheme: number): Buffer {
  const point = Buffer.alloc(65, 4);
  const sig = Buffer.alloc(71, 9);
  return Buffer.concat([Buffer.from([3]), u16(curve), Buffer.from([point.length]), point, u16(scheme), u16(sig.length), sig]);
}

function tls12Flight(opts: { ems: boolean; curve?: number; scheme?: number }): Buffer {
  const exts = [ext(0xff01, Buffer.from([0])), ext(11, Buffer.from([1, 0]))];
  if (opts.ems) exts.push(ext(23));
  exts.push(ext(16, Buffer.from([0, 3, 2, 0x68, 0x32]))); // ALPN "h2"
  const sh = handshake(2, serverHelloBody({ cipher: 0xc02c, exts }));
  const cert = handshake(11, Buffer.alloc(1200, 0x30));
  const ske = handshake(12, ecdheSke(opts.curve ?? 23, opts.scheme ?? 0x0403));
  const done = handshake(14, Buffer.alloc(0));
  // Certificate split across two records, the rest packed together.
  const hs = Buffer.concat([sh, cert, ske, done]);
  const cut = sh.length + 600;
  return Buffer.concat([record(22, hs.subarray(0, cut)), record(22, hs.subarray(cut))]);
}

function tls13Flight(group: number): Buffer {
  const keyShare = Buffer.concat([u16(group), u16(32), Buffer.alloc(32, 5)]);
  const sh = handshake(2, serverHelloBody({ cipher: 0x1302, exts: [ext(43, u16(0x0304)), ext(51, keyShare)] }));
  return Buffer.concat([record(22, sh), record(20, Buffer.from([1])), record(23, Buffer.alloc(300, 0xaa))]);
}

function feedInChunks(bytes: Buffer, sizes: (i: number) => number): ServerFlightParser {
  const parser = new ServerFlightParser();
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes(i));
    parser.feed(bytes.subarray(at, at + n));
    at += n;
  }
  return parser;
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('ServerFlightParser on synthetic flights', () => {
  it('reads a TLS 1.2 ServerHello (EMS, ALPN) and ServerKeyExchange split across records', () => {
    const p = feedInChunks(tls12Flight({ ems: true }), () => 1e9);
    expect(p.result.serverHello).toMatchObject({ version: 0x0303, legacyVersion: 0x0303, cipherSuite: 0xc02c, ems: true, alpn: 'h2', helloRetryRequest: false });
    expect(p.result.serverHello?.extensions).toEqual([0xff01, 11, 23, 16]);
    expect(p.result.serverKeyExchange).toEqual({ kx: 'ecdhe', namedCurve: 23, signatureScheme: 0x0403 });
    expect(p.result.stopped).toBe('server_hello_done');
    expect(p.result.garbage).toBeUndefined();
  });

  it('reports EMS absent', () => {
    const p = feedInChunks(tls12Flight({ ems: false, curve: 29, scheme: 0x0804 }), () => 1e9);
    expect(p.result.serverHello?.ems).toBe(false);
    expect(p.result.serverHello?.extensions).not.toContain(23);
    expect(p.result.serverKeyExchange).toEqual({ kx: 'ecdhe', namedCurve: 29, signatureScheme: 0x0804 });
  });

  it('gives the same result for every chunking, down to one byte at a time', () => {
    const bytes = tls12Flight({ ems: true });
    const whole = feedInChunks(bytes, () => 1e9).result;
    expect(feedInChunks(bytes, () => 1).result).toEqual(whole);
    for (let seed = 1; seed <= 50; seed++) {
      const r = rng(seed);
      expect(feedInChunks(bytes, () => Math.floor(r() * 40)).result).toEqual(whole);
    }
  });

  it('reads a TLS 1.3 ServerHello and stops at encrypted records', () => {
    const p = feedInChunks(tls13Flight(23), () => 7);
    expect(p.result.serverHello).toMatchObject({ version: 0x0304, legacyVersion: 0x0303, cipherSuite: 0x1302, keyShareGroup: 23, ems: false });
    expect(p.result.stopped).toBe('encrypted');
    expect(p.result.bytesSeen).toBe(tls13Flight(23).length);
  });

  it('follows a HelloRetryRequest (and its compatibility CCS) to the real ServerHello', () => {
    const hrr = handshake(2, serverHelloBody({ cipher: 0x1302, random: HRR_RANDOM, exts: [ext(43, u16(0x0304)), ext(51, u16(23))] }));
    const bytes = Buffer.concat([record(22, hrr), record(20, Buffer.from([1])), tls13Flight(23)]);
    const p = feedInChunks(bytes, () => 3);
    expect(p.result.helloRetryRequest).toMatchObject({ helloRetryRequest: true, keyShareGroup: 23 });
    expect(p.result.serverHello).toMatchObject({ helloRetryRequest: false, version: 0x0304, keyShareGroup: 23 });
    expect(p.result.stopped).toBe('encrypted');
  });

  it('records a cleartext alert', () => {
    const p = feedInChunks(Buffer.from('15030300020246', 'hex'), () => 1);
    expect(p.result.alert).toEqual({ level: 2, description: 70 });
    expect(p.result.stopped).toBe('alert');
    expect(alertName(70)).toBe('protocol_version');
  });

  it('flags an HTTP answer as garbage', () => {
    const p = feedInChunks(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), () => 1e9);
    expect(p.result.garbage).toMatch(/not a TLS record/);
    expect(p.result.stopped).toBe('garbage');
    expect(p.result.serverHello).toBeUndefined();
  });

  it('flags oversized records, messages before the ServerHello and malformed ServerHellos', () => {
    expect(feedInChunks(Buffer.from('1603034801', 'hex'), () => 1e9).result.garbage).toMatch(/exceeds/);
    expect(feedInChunks(record(22, handshake(11, Buffer.alloc(10))), () => 1e9).result.garbage).toMatch(/before ServerHello/);
    expect(feedInChunks(record(22, handshake(2, Buffer.alloc(10))), () => 1e9).result.garbage).toMatch(/malformed ServerHello/);
    // extension length running past the end
    const bad = serverHelloBody({ cipher: 0x1301, exts: [ext(43, u16(0x0304))] });
    bad.writeUInt16BE(0x00ff, bad.length - 4);
    expect(feedInChunks(record(22, handshake(2, bad)), () => 1e9).result.garbage).toMatch(/malformed ServerHello/);
  });

  it('never throws on random garbage and keeps its buffers bounded', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const len = Math.floor(r() * 3000);
      const bytes = Buffer.alloc(len);
      for (let i = 0; i < len; i++) bytes[i] = Math.floor(r() * 256);
      // Half the time start like a handshake record so the deeper parsers get exercised.
      if (seed % 2 === 0 && len > 5) {
        bytes[0] = 22;
        bytes[1] = 3;
        bytes[2] = 3;
      }
      const parser = new ServerFlightParser();
      expect(() => {
        let at = 0;
        while (at < bytes.length) {
          const n = 1 + Math.floor(r() * 64);
          parser.feed(bytes.subarray(at, at + n));
          at += n;
        }
      }).not.toThrow();
      expect(parser.result.bytesSeen).toBe(len);
    }
  });

  it('stops after MAX_BYTES of a never-ending handshake message', () => {
    const parser = new ServerFlightParser();
    const sh = record(22, handshake(2, serverHelloBody({ cipher: 0xc02f, exts: [ext(23)] })));
    parser.feed(sh);
    // A certificate message announcing 16 MB, sent in full-size records.
    const header = Buffer.from([11, 0xff, 0xff, 0xff]);
    parser.feed(record(22, Buffer.concat([header, Buffer.alloc(16000)])));
    for (let i = 0; i < 10 && !parser.done; i++) parser.feed(record(22, Buffer.alloc(16000)));
    expect(parser.done).toBe(true);
    expect(parser.result.stopped).toBe('limit');
    expect(parser.result.serverHello?.ems).toBe(true);
    const before = parser.result.bytesSeen;
    parser.feed(Buffer.alloc(MAX_BYTES));
    expect(parser.result.bytesSeen).toBe(before + MAX_BYTES);
  });
});

describe('parseServerKeyExchange', () => {
  it('reads ECDHE and DHE layouts', () => {
    expect(parseServerKeyExchange(ecdheSke(29, 0x0804))).toEqual({ kx: 'ecdhe', namedCurve: 29, signatureScheme: 0x0804 });
    const p = Buffer.concat([Buffer.from([0x80]), Buffer.alloc(255, 1)]); // 2048-bit prime
    const dhe = Buffer.concat([u16(p.length), p, u16(1), Buffer.from([2]), u16(256), Buffer.alloc(256, 3), u16(0x0401), u16(256), Buffer.alloc(256)]);
    expect(parseServerKeyExchange(dhe)).toEqual({ kx: 'dhe', dhBits: 2048, signatureScheme: 0x0401 });
    expect(parseServerKeyExchange(Buffer.from([1, 2, 3]))).toEqual({ kx: 'unknown' });
  });
});

describe('name tables', () => {
  it('maps ids to bounded names', () => {
    expect(groupName(23)).toBe('P-256');
    expect(groupName(29)).toBe('X25519');
    expect(groupName(4588)).toBe('X25519MLKEM768');
    expect(groupName(0x1234)).toBe('other');
    expect(versionName(0x0304)).toBe('TLSv1.3');
    expect(versionName(0x0303)).toBe('TLSv1.2');
    expect(versionName(0x9999)).toBe('unknown');
    expect(signatureSchemeName(0x0403)).toBe('ecdsa_secp256r1_sha256');
    expect(signatureSchemeName(0x0804)).toBe('rsa_pss_rsae_sha256');
    expect(alertName(40)).toBe('handshake_failure');
    expect(alertName(200)).toBe('unknown');
  });
});

describe('sessionEmsFlag', () => {
  it('reads bit 0 of the [13] flags field, absent means false', () => {
    const seq = (...parts: Buffer[]) => {
      const body = Buffer.concat(parts);
      return Buffer.concat([Buffer.from([0x30, body.length]), body]);
    };
    const int = (n: number) => Buffer.from([0x02, 1, n]);
    const flags = (n: number) => Buffer.from([0xad, 3, 0x02, 1, n]);
    expect(sessionEmsFlag(seq(int(1), int(3), flags(1)))).toBe(true);
    expect(sessionEmsFlag(seq(int(1), int(3), flags(4)))).toBe(false);
    expect(sessionEmsFlag(seq(int(1), int(3)))).toBe(false);
    expect(sessionEmsFlag(Buffer.from([0x04, 1, 0]))).toBeNull();
    expect(sessionEmsFlag(Buffer.from([0x30, 0x85]))).toBeNull();
    expect(sessionEmsFlag(undefined)).toBeNull();
  });
});

// ---- real flights from node:tls servers ----------------------------------------

interface Capture {
  bytes: Buffer;
  parser: ServerFlightParser;
  session: Buffer | undefined;
  protocol: string | null;
  group: string | undefined;
}

/** One handshake through a WireTap; returns every inbound byte and the parser fed live. */
function capture(port: number, options: ConnectionOptions): Promise<Capture> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const parser = new ServerFlightParser();
    const raw = netConnect(port, '127.0.0.1');
    raw.on('error', () => {});
    raw.once('connect', () => {
      const tap = new WireTap(raw, (chunk) => {
        chunks.push(Buffer.from(chunk));
        parser.feed(chunk);
      });
      tap.on('error', () => {});
      const socket = tlsConnect({ socket: tap, servername: 'localhost', rejectUnauthorized: false, ...options });
      socket.once('secureConnect', () => {
        const info = socket.getEphemeralKeyInfo();
        resolve({
          bytes: Buffer.concat(chunks),
          parser,
          session: socket.getSession(),
          protocol: socket.getProtocol(),
          group: info !== null && 'name' in info ? info.name : undefined,
        });
        socket.destroy();
      });
      socket.once('error', (err: Error) => {
        socket.destroy();
        reject(err);
      });
    });
  });
}

describe('ServerFlightParser on real node:tls flights', () => {
  const servers = new Map<TlsVariant, RunningServer>();
  beforeAll(async () => {
    for (const v of ['full', 'no-ems', 'tls12-only'] as const) servers.set(v, await startTlsServer(v));
  });
  afterAll(async () => {
    await Promise.all([...servers.values()].map((s) => s.close()));
  });

  it('TLS 1.2 with EMS: ServerHello ext 23, ServerKeyExchange on P-256 signed ecdsa_secp256r1_sha256; session DER agrees', async () => {
    const c = await capture(servers.get('full')!.port, {
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384',
      ecdhCurve: 'P-256',
      sigalgs: 'ecdsa_secp256r1_sha256',
    });
    expect(c.protocol).toBe('TLSv1.2');
    expect(c.parser.result.serverHello).toMatchObject({ version: 0x0303, cipherSuite: 0xc02c, ems: true });
    expect(c.parser.result.serverKeyExchange).toEqual({ kx: 'ecdhe', namedCurve: 23, signatureScheme: 0x0403 });
    expect(c.parser.result.stopped).toBe('server_hello_done');
    expect(sessionEmsFlag(c.session)).toBe(true);
    // The same bytes, re-fed one byte at a time, give the same observation.
    const again = feedInChunks(c.bytes, () => 1).result;
    expect({ ...again, bytesSeen: 0 }).toEqual({ ...c.parser.result, bytesSeen: 0 });
  });

  it('TLS 1.2 without EMS (secureOptions: 1): no ext 23; RSA-PSS signature; session DER agrees', async () => {
    const c = await capture(servers.get('no-ems')!.port, { maxVersion: 'TLSv1.2', ecdhCurve: 'X25519', sigalgs: 'rsa_pss_rsae_sha256' });
    expect(c.parser.result.serverHello?.ems).toBe(false);
    expect(c.parser.result.serverHello?.extensions).not.toContain(23);
    expect(c.parser.result.serverKeyExchange).toEqual({ kx: 'ecdhe', namedCurve: 29, signatureScheme: 0x0804 });
    expect(sessionEmsFlag(c.session)).toBe(false);
    for (let seed = 1; seed <= 20; seed++) {
      const r = rng(seed);
      const res = feedInChunks(c.bytes, () => 1 + Math.floor(r() * 300)).result;
      expect(res.serverHello?.ems).toBe(false);
      expect(res.serverKeyExchange?.namedCurve).toBe(29);
    }
  });

  it('TLS 1.3: supported_versions and key_share, then encrypted', async () => {
    const c = await capture(servers.get('full')!.port, { ecdhCurve: 'P-256' });
    expect(c.protocol).toBe('TLSv1.3');
    expect(c.group).toBe('prime256v1');
    expect(c.parser.result.serverHello).toMatchObject({ version: 0x0304, legacyVersion: 0x0303, keyShareGroup: 23, ems: false });
    expect(c.parser.result.serverHello?.extensions).toEqual(expect.arrayContaining([43, 51]));
    expect(c.parser.result.stopped).toBe('encrypted');
  });

  it('TLS 1.3 HelloRetryRequest: the client guesses X25519, the server only takes P-256', async () => {
    const pki = await getPki();
    const server = createTlsServer({ key: pki.ecdsa.key, cert: pki.ecdsa.chain, ecdhCurve: 'P-256' }, (s) => s.on('error', () => {}));
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const c = await capture(port, { ecdhCurve: 'X25519:P-256' });
      expect(c.protocol).toBe('TLSv1.3');
      expect(c.parser.result.helloRetryRequest).toMatchObject({ helloRetryRequest: true, keyShareGroup: 23 });
      expect(c.parser.result.serverHello).toMatchObject({ helloRetryRequest: false, version: 0x0304, keyShareGroup: 23 });
      expect(c.parser.result.stopped).toBe('encrypted');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('TLS 1.2-only server answering a client that offers 1.3 and 1.2', async () => {
    const c = await capture(servers.get('tls12-only')!.port, {});
    expect(c.parser.result.serverHello?.version).toBe(0x0303);
    expect(c.parser.result.serverHello?.extensions).not.toContain(43);
    expect(c.parser.result.serverHello?.ems).toBe(true);
  });
});
