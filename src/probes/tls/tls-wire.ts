// A passive reader of the cleartext part of a server's TLS flight, and the stream
// wrapper that feeds it.
//
// Node tells neither whether Extended Master Secret (RFC 7627) was negotiated nor
// which signature scheme the server used, but both are visible in cleartext: the
// ServerHello's extension list (type 23 = EMS) and, for TLS 1.2, the
// ServerKeyExchange (named curve and signature scheme). `WireTap` sits between the
// raw socket and `tls.connect` and copies every inbound byte to a `ServerFlightParser`.
//
// The parser never throws out of `feed`, buffers at most MAX_BYTES, and stops as
// soon as the rest of the flight is encrypted (TLS 1.3 after the ServerHello, TLS 1.2
// after ServerHelloDone or ChangeCipherSpec), or when the bytes are not TLS at all.
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

/** Stop reading after this many inbound bytes. A server flight is rarely above 16 KiB. */
export const MAX_BYTES = 64 * 1024;
const MAX_RECORD = 16384 + 2048;
const MAX_HANDSHAKE_MESSAGE = MAX_BYTES;

const CONTENT_CCS = 20;
const CONTENT_ALERT = 21;
const CONTENT_HANDSHAKE = 22;
const CONTENT_APPDATA = 23;

const HS_SERVER_HELLO = 2;
const HS_SERVER_KEY_EXCHANGE = 12;
const HS_SERVER_HELLO_DONE = 14;

export const EXT_ALPN = 16;
export const EXT_EXTENDED_MASTER_SECRET = 23;
export const EXT_SUPPORTED_VERSIONS = 43;
export const EXT_KEY_SHARE = 51;

/** SHA-256("HelloRetryRequest"), the ServerHello.random of a HelloRetryRequest (RFC 8446 4.1.3). */
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

export interface ServerHelloInfo {
  /** legacy_version field (0x0303 for TLS 1.2 and 1.3). */
  legacyVersion: number;
  /** The negotiated version: supported_versions (ext 43) if present, else legacyVersion. */
  version: number;
  cipherSuite: number;
  /** Extension types in the order the server sent them. */
  extensions: number[];
  /** Extension 23 present: Extended Master Secret negotiated (meaningful on TLS 1.2). */
  ems: boolean;
  /** key_share (ext 51) group: the server's share (TLS 1.3), or the group asked for in a HelloRetryRequest. */
  keyShareGroup?: number;
  /** ALPN protocol the server selected, if it sent ext 16 in cleartext (TLS 1.2 only). */
  alpn?: string;
  helloRetryRequest: boolean;
}

export interface ServerKeyExchangeInfo {
  kx: 'ecdhe' | 'dhe' | 'unknown';
  /** Named curve id (23 = secp256r1, 29 = x25519) for ECDHE. */
  namedCurve?: number;
  /** DH prime size in bits for DHE. */
  dhBits?: number;
  /** TLS 1.2 SignatureAndHashAlgorithm (0x0403 ecdsa_secp256r1_sha256, 0x0804 rsa_pss_rsae_sha256). */
  signatureScheme?: number;
}

export interface WireObservation {
  /** The final ServerHello (after any HelloRetryRequest). */
  serverHello?: ServerHelloInfo;
  helloRetryRequest?: ServerHelloInfo;
  serverKeyExchange?: ServerKeyExchangeInfo;
  /** A cleartext alert from the server (before encryption started). */
  alert?: { level: number; description: number };
  /** Inbound bytes seen, including those after parsing stopped. */
  bytesSeen: number;
  /** Why parsing stopped: 'encrypted', 'server_hello_done', 'alert', 'limit', 'garbage'. */
  stopped?: 'encrypted' | 'server_hello_done' | 'alert' | 'limit' | 'garbage';
  /** Set when the bytes are not a TLS server flight (e.g. an HTTP answer). */
  garbage?: string;
}

/** Incremental parser of a server's cleartext TLS flight. */
export class ServerFlightParser {
  readonly result: WireObservation = { bytesSeen: 0 };
  private recordBuf: Buffer = Buffer.alloc(0);
  private handshakeBuf: Buffer = Buffer.alloc(0);
  private consumed = 0;

  get done(): boolean {
    return this.result.stopped !== undefined;
  }

  /** Feeds inbound bytes. Never throws. */
  feed(chunk: Buffer): void {
    try {
      this.result.bytesSeen += chunk.length;
      if (this.done) return;
      const room = MAX_BYTES - this.consumed;
      const take = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.consumed += take.length;
      this.recordBuf = this.recordBuf.length === 0 ? Buffer.from(take) : Buffer.concat([this.recordBuf, take]);
      this.drainRecords();
      if (!this.done && this.consumed >= MAX_BYTES) this.stop('limit');
    } catch (err) {
      this.fail(`parser error: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private stop(why: NonNullable<WireObservation['stopped']>): void {
    this.result.stopped ??= why;
    this.recordBuf = Buffer.alloc(0);
    this.handshakeBuf = Buffer.alloc(0);
  }

  private fail(why: string): void {
    this.result.garbage ??= why;
    this.stop('garbage');
  }

  private drainRecords(): void {
    while (!this.done && this.recordBuf.length >= 5) {
      const type = this.recordBuf[0]!;
      const major = this.recordBuf[1]!;
      const length = this.recordBuf.readUInt16BE(3);
      if (type < CONTENT_CCS || type > CONTENT_APPDATA || major !== 3) {
        this.fail(`not a TLS record: first bytes ${this.recordBuf.subarray(0, 5).toString('hex')}`);
        return;
      }
      if (length > MAX_RECORD) {
        this.fail(`record length ${length} exceeds the TLS maximum`);
        return;
      }
      if (this.recordBuf.length < 5 + length) return;
      const body = this.recordBuf.subarray(5, 5 + length);
      this.recordBuf = this.recordBuf.subarray(5 + length);
      this.onRecord(type, body);
    }
  }

  private onRecord(type: number, body: Buffer): void {
    switch (type) {
      case CONTENT_HANDSHAKE:
        if (this.handshakeBuf.length + body.length > MAX_HANDSHAKE_MESSAGE + 4) {
          this.stop('limit');
          return;
        }
        this.handshakeBuf = this.handshakeBuf.length === 0 ? Buffer.from(body) : Buffer.concat([this.handshakeBuf, body]);
        this.drainHandshake();
        return;
      case CONTENT_ALERT:
        if (body.length >= 2) this.result.alert = { level: body[0]!, description: body[1]! };
        this.stop('alert');
        return;
      case CONTENT_CCS:
        // TLS 1.3 middlebox compatibility sends a CCS after the ServerHello or the
        // HelloRetryRequest; what follows a HRR is still cleartext. In TLS 1.2 the
        // CCS starts encryption.
        if (this.result.serverHello !== undefined) this.stop('encrypted');
        return;
      default:
        this.stop('encrypted');
    }
  }

  private drainHandshake(): void {
    while (!this.done && this.handshakeBuf.length >= 4) {
      const msgType = this.handshakeBuf[0]!;
      const length = this.handshakeBuf.readUIntBE(1, 3);
      if (length > MAX_HANDSHAKE_MESSAGE) {
        this.stop('limit');
        return;
      }
      if (this.handshakeBuf.length < 4 + length) return;
      const body = this.handshakeBuf.subarray(4, 4 + length);
      this.handshakeBuf = this.handshakeBuf.subarray(4 + length);
      this.onHandshake(msgType, body);
    }
  }

  private onHandshake(msgType: number, body: Buffer): void {
    if (this.result.serverHello === undefined && msgType !== HS_SERVER_HELLO) {
      this.fail(`handshake message ${msgType} before ServerHello`);
      return;
    }
    switch (msgType) {
      case HS_SERVER_HELLO: {
        if (this.result.serverHello !== undefined) {
          this.fail('second ServerHello');
          return;
        }
        const hello = parseServerHello(body);
        if (hello === undefined) {
          this.fail('malformed ServerHello');
          return;
        }
        if (hello.helloRetryRequest) {
          if (this.result.helloRetryRequest !== undefined) {
            this.fail('second HelloRetryRequest');
            return;
          }
          this.result.helloRetryRequest = hello;
          return;
        }
        this.result.serverHello = hello;
        // Everything after a TLS 1.3 ServerHello is encrypted.
        if (hello.version === 0x0304) this.stop('encrypted');
        return;
      }
      case HS_SERVER_KEY_EXCHANGE:
        this.result.serverKeyExchange = parseServerKeyExchange(body);
        return;
      case HS_SERVER_HELLO_DONE:
        this.stop('server_hello_done');
        return;
      default:
        // Certificate, CertificateStatus, CertificateRequest: not needed.
        return;
    }
  }
}

/** Parses a ServerHello body (without the 4-byte handshake header). Undefined when malformed. */
export function parseServerHello(body: Buffer): ServerHelloInfo | undefined {
  if (body.length < 2 + 32 + 1) return undefined;
  let p = 0;
  const legacyVersion = body.readUInt16BE(p);
  p += 2;
  const random = body.subarray(p, p + 32);
  p += 32;
  const sidLen = body[p]!;
  p += 1 + sidLen;
  if (sidLen > 32 || p + 3 > body.length) return undefined;
  const cipherSuite = body.readUInt16BE(p);
  p += 2;
  p += 1; // compression method
  const hello: ServerHelloInfo = {
    legacyVersion,
    version: legacyVersion,
    cipherSuite,
    extensions: [],
    ems: false,
    helloRetryRequest: random.equals(HRR_RANDOM),
  };
  if (p === body.length) return hello; // no extensions at all
  if (p + 2 > body.length) return undefined;
  const extEnd = p + 2 + body.readUInt16BE(p);
  p += 2;
  if (extEnd !== body.length) return undefined;
  while (p < extEnd) {
    if (p + 4 > extEnd) return undefined;
    const type = body.readUInt16BE(p);
    const len = body.readUInt16BE(p + 2);
    p += 4;
    if (p + len > extEnd) return undefined;
    const data = body.subarray(p, p + len);
    p += len;
    hello.extensions.push(type);
    switch (type) {
      case EXT_EXTENDED_MASTER_SECRET:
        hello.ems = true;
        break;
      case EXT_SUPPORTED_VERSIONS:
        if (len >= 2) hello.version = data.readUInt16BE(0);
        break;
      case EXT_KEY_SHARE:
        if (len >= 2) hello.keyShareGroup = data.readUInt16BE(0);
        break;
      case EXT_ALPN:
        if (len >= 3) {
          const protoLen = data[2]!;
          if (3 + protoLen <= len) hello.alpn = data.subarray(3, 3 + protoLen).toString('latin1');
        }
        break;
      default:
        break;
    }
  }
  return hello;
}

/**
 * Parses a TLS 1.2 ServerKeyExchange. The layout depends on the key exchange, which
 * the message does not name: an ECDHE layout is accepted only when its lengths add up
 * exactly, otherwise a DHE layout is tried.
 */
export function parseServerKeyExchange(body: Buffer): ServerKeyExchangeInfo {
  const sigAt = (p: number): number | undefined => {
    // SignatureAndHashAlgorithm(2) + opaque signature<0..2^16-1>
    if (p + 4 > body.length) return undefined;
    const sigLen = body.readUInt16BE(p + 2);
    return p + 4 + sigLen === body.length ? body.readUInt16BE(p) : undefined;
  };
  // ECDHE: curve_type(1) = named_curve(3), namedcurve(2), point<1..255>
  if (body.length >= 4 && body[0] === 3) {
    const pointLen = body[3]!;
    const end = 4 + pointLen;
    if (end <= body.length) {
      const scheme = sigAt(end);
      if (scheme !== undefined || end === body.length) {
        const info: ServerKeyExchangeInfo = { kx: 'ecdhe', namedCurve: body.readUInt16BE(1) };
        if (scheme !== undefined) info.signatureScheme = scheme;
        return info;
      }
    }
  }
  // DHE: dh_p<1..2^16-1>, dh_g<1..2^16-1>, dh_Ys<1..2^16-1>
  let p = 0;
  const vectors: Buffer[] = [];
  for (let i = 0; i < 3; i++) {
    if (p + 2 > body.length) return { kx: 'unknown' };
    const len = body.readUInt16BE(p);
    if (p + 2 + len > body.length) return { kx: 'unknown' };
    vectors.push(body.subarray(p + 2, p + 2 + len));
    p += 2 + len;
  }
  const scheme = sigAt(p);
  if (scheme === undefined && p !== body.length) return { kx: 'unknown' };
  const prime = vectors[0]!;
  let lead = 0;
  while (lead < prime.length && prime[lead] === 0) lead++;
  const significant = prime.length - lead;
  const dhBits = significant === 0 ? 0 : (significant - 1) * 8 + (32 - Math.clz32(prime[lead]!));
  const info: ServerKeyExchangeInfo = { kx: 'dhe', dhBits };
  if (scheme !== undefined) info.signatureScheme = scheme;
  return info;
}

/**
 * Forwards bytes both ways between a raw socket and `tls.connect({ socket })`, and
 * hands every inbound chunk to `onInbound` first (passing the raw socket to
 * tls.connect directly hides its data: TLS takes it over).
 */
export class WireTap extends Duplex {
  private readonly raw: Socket;

  constructor(raw: Socket, onInbound: (chunk: Buffer) => void) {
    super();
    this.raw = raw;
    raw.on('data', (chunk: Buffer) => {
      try {
        onInbound(chunk);
      } catch {
        // the observer must never break the connection
      }
      if (!this.push(chunk)) raw.pause();
    });
    raw.on('end', () => this.push(null));
    raw.on('error', (err) => this.destroy(err));
    raw.on('close', () => {
      // A close without 'end' or 'error' (destroyed from elsewhere): end the readable
      // side so the TLS layer sees EOF instead of waiting forever.
      if (!this.readableEnded && !this.destroyed) this.push(null);
    });
    // A socket handed over already closed or ended will not emit those events again.
    if (raw.destroyed || raw.readableEnded) {
      process.nextTick(() => {
        if (!this.readableEnded && !this.destroyed) this.push(null);
      });
    }
    // A dialer (e.g. a CONNECT tunnel) may have paused the socket; an explicitly
    // paused stream does not resume when a 'data' listener is added.
    raw.resume();
  }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.raw.destroyed || this.raw.writableEnded) {
      callback(Object.assign(new Error('write on a closed connection'), { code: 'EPIPE' }));
      return;
    }
    this.raw.write(chunk, (err) => callback(err ?? null));
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.raw.end();
    callback();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.raw.destroy();
    callback(err);
  }
}

/** TLS alert descriptions (RFC 8446 6, RFC 5246 7.2). */
export const ALERT_NAMES: Readonly<Record<number, string>> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  22: 'record_overflow',
  40: 'handshake_failure',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  109: 'missing_extension',
  110: 'unsupported_extension',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

export function alertName(description: number): string {
  return ALERT_NAMES[description] ?? 'unknown';
}

/** Named groups (IANA TLS Supported Groups) to the names used in metrics. Unknown ids: 'other'. */
const GROUP_NAMES: Readonly<Record<number, string>> = {
  23: 'P-256',
  24: 'P-384',
  25: 'P-521',
  29: 'X25519',
  30: 'X448',
  256: 'ffdhe2048',
  257: 'ffdhe3072',
  258: 'ffdhe4096',
  259: 'ffdhe6144',
  260: 'ffdhe8192',
  4587: 'SecP256r1MLKEM768',
  4588: 'X25519MLKEM768',
  4589: 'SecP384r1MLKEM1024',
  25497: 'X25519Kyber768Draft00',
};

export function groupName(id: number): string {
  return GROUP_NAMES[id] ?? 'other';
}

export function versionName(version: number): string {
  switch (version) {
    case 0x0304:
      return 'TLSv1.3';
    case 0x0303:
      return 'TLSv1.2';
    case 0x0302:
      return 'TLSv1.1';
    case 0x0301:
      return 'TLSv1';
    default:
      return 'unknown';
  }
}

const SIGNATURE_SCHEMES: Readonly<Record<number, string>> = {
  0x0401: 'rsa_pkcs1_sha256',
  0x0501: 'rsa_pkcs1_sha384',
  0x0601: 'rsa_pkcs1_sha512',
  0x0403: 'ecdsa_secp256r1_sha256',
  0x0503: 'ecdsa_secp384r1_sha384',
  0x0603: 'ecdsa_secp521r1_sha512',
  0x0804: 'rsa_pss_rsae_sha256',
  0x0805: 'rsa_pss_rsae_sha384',
  0x0806: 'rsa_pss_rsae_sha512',
  0x0807: 'ed25519',
  0x0808: 'ed448',
  0x0809: 'rsa_pss_pss_sha256',
  0x080a: 'rsa_pss_pss_sha384',
  0x080b: 'rsa_pss_pss_sha512',
  0x0201: 'rsa_pkcs1_sha1',
  0x0203: 'ecdsa_sha1',
};

export function signatureSchemeName(id: number): string {
  return SIGNATURE_SCHEMES[id] ?? `0x${id.toString(16).padStart(4, '0')}`;
}
