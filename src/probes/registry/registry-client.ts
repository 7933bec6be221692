// The registry check's HTTP client: GETs over connections the check opens itself
// (dial, then TLS verified against the system roots plus tls.ca_file, handed to
// undici), one origin's requests sharing its connection as a client's do, and a
// transcript of every connection and request, redacted. No pool, no TLS session cache,
// nothing shared with another check or round.
//
// Secrets: what the pull remembers (the password, its encodings, the tokens) never
// leaves in a message or the transcript: `scrub` replaces them, Authorization shows as
// `Bearer <redacted>`, URLs lose their query values but for a token request's service
// and scope (a blob host's signed URL carries its signature there).
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import type { SecureContext } from 'node:tls';
import type { Client, Dispatcher } from 'undici';
import { secondsSince } from '../../async/clock.js';
import { errorCode, errorMessage } from '../errors.js';
import { DEFAULT_USER_AGENT, proxyGeneratedError } from '../http/http.js';
import { requestFailure } from '../http/request-failure.js';
import { clientOnOwnSockets, closeClient, requestBefore } from '../http/socket-client.js';
import { authority } from '../net/proxy.js';
import type { FailureReason } from '../reasons.js';
import { dialTls, dialedFacts, trustedContext } from '../tls/tls-client.js';
import type { RegistryProbeOptions, RegistryStep, RegistryTranscriptEntry } from './registry-types.js';

const MAX_HOST_CHARS = 253;
const MAX_HEADER_VALUE = 200;
const MAX_URL_CHARS = 300;
const ALPN = ['h2', 'http/1.1'];
const SHOWN_RESPONSE_HEADERS = [
  'content-type',
  'content-length',
  'content-range',
  'docker-content-digest',
  'docker-distribution-api-version',
  'www-authenticate',
  'location',
  'retry-after',
  'x-squid-error',
  'proxy-status',
  'via',
];
/** Query parameters of a token request that are safe to show. */
const SHOWN_QUERY = new Set(['service', 'scope']);

const noop = (): void => {};

/** A URL for the transcript: no user info, query values redacted except a token request's service and scope. */
export function redactUrl(url: URL): string {
  const query = [...url.searchParams].map(([k, v]) => `${encodeURIComponent(k)}=${SHOWN_QUERY.has(k.toLowerCase()) ? encodeURIComponent(v) : '<redacted>'}`);
  const text = `${url.protocol}//${url.host}${url.pathname}${query.length > 0 ? `?${query.join('&')}` : ''}`;
  return text.length > MAX_URL_CHARS ? `${text.slice(0, MAX_URL_CHARS)}...` : text;
}

/** A hostname fit for a label: lower-case, bounded, only name characters. */
export function boundedHost(hostname: string): string {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  const clean = bare.toLowerCase().replace(/[^a-z0-9.:-]/g, '_');
  return clean.slice(0, MAX_HOST_CHARS);
}

export type Failure = { ok: false; reason: FailureReason; message: string };

export function isFailure(value: unknown): value is Failure {
  return typeof value === 'object' && value !== null && !(value instanceof Buffer) && (value as { ok?: unknown }).ok === false;
}

export interface Answer {
  ok: true;
  status: number;
  headers: Record<string, string>;
  /** www-authenticate as sent, possibly several. */
  challenges: string[];
  body: Readable;
  seconds: number;
  entry: Extract<RegistryTranscriptEntry, { kind: 'request' }>;
}

/** The connections of one origin: one undici client whose sockets this check opens. */
class Origin {
  readonly host: string;
  readonly port: number;
  client: Client | undefined;

  constructor(
    private readonly http: RegistryClient,
    readonly base: URL,
  ) {
    this.host = base.hostname.startsWith('[') ? base.hostname.slice(1, -1) : base.hostname;
    this.port = base.port === '' ? 443 : Number(base.port);
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Opens the first connection now, so that its time and failure belong to the current step. */
  async open(): Promise<Failure | undefined> {
    const opened = await this.openSocket();
    if (!('socket' in opened)) return opened;
    // undici asks for another socket when it needs one (after the server closed a keep-alive connection).
    this.client = clientOnOwnSockets(this.base.origin, {
      first: opened.socket,
      more: async () => {
        const again = await this.openSocket();
        return 'socket' in again ? again.socket : Object.assign(new Error(again.message), { code: 'EGRESS_CONNECT_FAILED', failure: again });
      },
    });
    return undefined;
  }

  private async openSocket(): Promise<{ socket: Socket } | Failure> {
    const http = this.http;
    const entry: Extract<RegistryTranscriptEntry, { kind: 'connect' }> = { step: http.step(), kind: 'connect', host: this.host, port: this.port, ok: false };
    http.transcript.push(entry);
    const failed = (reason: FailureReason, message: string): Failure => {
      entry.error = http.scrub(message).slice(0, 300);
      return { ok: false, reason, message: http.scrub(message) };
    };
    let dial;
    try {
      dial = http.options.dialFor(this.host, this.port);
    } catch (err) {
      return failed('internal_error', `the dial factory threw: ${errorMessage(err)}`);
    }
    const tls = await dialTls(dial, { servername: this.host, secureContext: http.context(), alpn: ALPN, viaProxy: http.viaProxy, observeWire: false, signal: http.signal });
    const dialed = dialedFacts(tls);
    if (dialed !== undefined) {
      if (dialed.remoteAddress !== undefined) entry.remoteAddress = dialed.remoteAddress;
      if (dialed.lookupSeconds !== undefined) entry.lookupSeconds = dialed.lookupSeconds;
      entry.connectSeconds = dialed.connectSeconds;
      if (dialed.proxyConnectSeconds !== undefined) entry.proxyConnectSeconds = dialed.proxyConnectSeconds;
    }
    if (!tls.ok) return failed(tls.reason, tls.stage === 'tls' ? `${authority(this.host, this.port)}: ${tls.message}` : tls.message);
    http.own(tls.transport);
    http.own(tls.socket);
    entry.tlsSeconds = tls.seconds;
    entry.tlsVersion = tls.version;
    entry.alpn = tls.alpn;
    if (!tls.authorized) {
      tls.socket.destroy();
      return failed('tls_cert_invalid', `the certificate of ${this.host} did not verify (${tls.authorizationError ?? 'unknown'})`);
    }
    entry.ok = true;
    return { socket: tls.socket };
  }
}

/** One registry check's HTTP: its connections, its transcript, its secrets. Released once, at the end. */
export class RegistryClient {
  readonly viaProxy: boolean;
  /** Every connection and request, in order; the pull's result carries it. */
  readonly transcript: RegistryTranscriptEntry[] = [];
  private readonly origins = new Map<string, Origin>();
  private readonly sockets = new Set<{ destroy: () => void }>();
  private readonly secrets: string[] = [];
  private secureContext: SecureContext | undefined;

  constructor(
    readonly options: Pick<RegistryProbeOptions, 'dialFor' | 'viaProxy' | 'ca' | 'systemRoots' | 'userAgent'>,
    /** The check's deadline. */
    readonly signal: AbortSignal,
    /** The step each transcript entry is filed under. */
    readonly step: () => RegistryStep,
  ) {
    this.viaProxy = options.viaProxy ?? false;
  }

  /** The trust every connection verifies against; a CA that does not parse is a failure before any connection. */
  prepare(): Failure | undefined {
    try {
      this.secureContext = trustedContext(this.options.systemRoots ?? rootCertificates, this.options.ca ?? []);
      return undefined;
    } catch (err) {
      return { ok: false, reason: 'internal_error', message: `cannot use the configured CA certificates: ${errorMessage(err)}` };
    }
  }

  context(): SecureContext {
    if (this.secureContext === undefined) throw new Error('RegistryClient.prepare() was not called');
    return this.secureContext;
  }

  /** A secret never to show. Short strings would scrub innocent text; a password that short is not a secret worth the name. */
  remember(secret: string): void {
    if (secret.length >= 4 && !this.secrets.includes(secret)) this.secrets.push(secret);
  }

  scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('<redacted>');
    return out;
  }

  own(socket: { destroy: () => void }): void {
    this.sockets.add(socket);
  }

  async release(): Promise<void> {
    await Promise.all([...this.origins.values()].flatMap((o) => (o.client === undefined ? [] : [closeClient(o.client)])));
    for (const s of this.sockets) s.destroy();
  }

  /** The connections of url's origin, not opened yet the first time. */
  origin(url: URL): Origin {
    let o = this.origins.get(url.origin);
    if (o === undefined) {
      o = new Origin(this, new URL(url.origin));
      this.origins.set(url.origin, o);
    }
    return o;
  }

  /** GET on a connection of the url's origin (opened first if needed). Never rejects. */
  async get(url: URL, headers: Record<string, string>): Promise<Answer | Failure> {
    const origin = this.origin(url);
    if (!origin.connected) {
      const failed = await origin.open();
      if (failed !== undefined) return failed;
    }
    const shown: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      shown[name] = name === 'authorization' ? `${value.split(' ')[0] ?? ''} <redacted>` : value.slice(0, MAX_HEADER_VALUE);
    }
    const entry: Extract<RegistryTranscriptEntry, { kind: 'request' }> = {
      step: this.step(),
      kind: 'request',
      method: 'GET',
      url: this.scrub(redactUrl(url)),
      requestHeaders: shown,
      responseHeaders: {},
      seconds: 0,
    };
    this.transcript.push(entry);
    const sent = process.hrtime.bigint();
    let response: Dispatcher.ResponseData;
    try {
      response = await requestBefore(
        origin.client!,
        { method: 'GET', path: `${url.pathname}${url.search}`, headers: { 'user-agent': this.options.userAgent ?? DEFAULT_USER_AGENT, ...headers } },
        this.signal,
      );
    } catch (err) {
      entry.seconds = secondsSince(sent);
      // A connection undici asked for and the dial could not open: the dial's reason.
      const failure = (err as { failure?: Failure } | null)?.failure ?? { ok: false as const, ...requestFailure(err, this.signal.aborted, url.host) };
      entry.error = this.scrub(failure.message).slice(0, 300);
      return failure;
    }
    entry.seconds = secondsSince(sent);
    entry.status = response.statusCode;
    response.body.on('error', noop);
    const flat: Record<string, string> = {};
    let challenges: string[] = [];
    for (const [name, value] of Object.entries(response.headers)) {
      if (value === undefined) continue;
      const lower = name.toLowerCase();
      if (lower === 'www-authenticate') challenges = Array.isArray(value) ? value : [value];
      flat[lower] = Array.isArray(value) ? value.join(', ') : value;
    }
    for (const name of SHOWN_RESPONSE_HEADERS) {
      const value = flat[name];
      if (value === undefined) continue;
      let shownValue = value;
      if (name === 'location') {
        try {
          shownValue = redactUrl(new URL(value, url));
        } catch {
          shownValue = '<not a URL>';
        }
      }
      entry.responseHeaders[name] = this.scrub(shownValue).replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_HEADER_VALUE);
    }
    const answer: Answer = { ok: true, status: response.statusCode, headers: flat, challenges, body: response.body, seconds: entry.seconds, entry };
    if (this.viaProxy) {
      const byProxy = proxyGeneratedError(answer.status, flat);
      if (byProxy !== undefined) {
        response.body.destroy();
        return { ok: false, reason: byProxy.reason, message: `${url.host} answered ${answer.status}, from the proxy inside the tunnel (${byProxy.evidence})` };
      }
    }
    return answer;
  }

  /** Reads the body up to `max` bytes; undefined when it is larger (then the body is dropped). */
  async read(body: Readable, max: number): Promise<Buffer | undefined | Failure> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > max) {
          body.destroy();
          return undefined;
        }
        chunks.push(buf);
      }
    } catch (err) {
      if (this.signal.aborted) return { ok: false, reason: 'timeout', message: 'the body did not arrive before the deadline' };
      return { ok: false, reason: 'reset', message: `the body was cut off (${errorCode(err) || errorMessage(err).slice(0, 100)})` };
    }
    return Buffer.concat(chunks);
  }
}
