// The registry check: the pull path as `docker pull` takes it, one step at a time,
// over one path (direct or through a proxy), on connections of its own.
//
//   ping             GET /v2/ (200: no auth; 401: a Bearer or Basic challenge)
//   token            GET <realm>?service=...&scope=repository:<repo>:pull, anonymously or
//                    with basic auth (Bearer); not a step of its own with Basic auth
//   manifest         GET /v2/<repo>/manifests/<ref>, accepting the OCI and Docker index and
//                    manifest types; from an index, the configured platform's manifest
//   blob_redirect    GET /v2/<repo>/blobs/<smallest blob> up to its redirect, and the new
//                    connection (its own DNS, TCP, CONNECT, TLS) to the host it points to;
//                    each further redirect counts here too
//   blob_first_byte  the Range request that gets the blob's first bytes (from the blob host,
//                    or from the registry itself when it serves blobs without a redirect)
//
// Each connection is opened by the check itself (registry-client.ts: dial, then TLS
// verified against the system roots plus tls.ca_file, handed to undici), so every phase
// is timed and nothing is shared with another check or another round. Requests to one
// origin share its connection within the check, as a client's do.
//
// Reasons (the step that failed is in `failedStep`):
//   a connection that cannot be opened    the dial's reason (refused, timeout, nxdomain,
//                                          proxy_denied, ...), tls_handshake_failed, or
//                                          tls_cert_invalid (chain or name not verified)
//   401/403 from the registry or its token endpoint
//                                          registry_auth_failed; registry_credentials_expired
//                                          when the password is a JWT past its exp
//   credentials configured but not usable  registry_credentials_unusable (nothing is sent)
//   manifest or blob 404, platform missing registry_not_found
//   a redirect seen before, or too many    registry_redirect_loop
//   anything else unexpected               http_bad_response
//   a proxy's own error page in the tunnel proxy_denied, ... (as the http check)
//
// Bounds: every body is read up to a limit (64 KiB, manifests 4 MiB, the blob's first
// 64 KiB), redirects are capped, and one deadline, the signal the check is given, covers
// everything. Never throws; releases every socket before it resolves.
//
// Secrets: the password and the tokens go into Authorization headers and nowhere else.
// The transcript shows `Bearer <redacted>`, URLs without query values (a blob host's
// signed URL carries its signature there), and every message is scrubbed of the secrets.
// Authorization is never sent to another origin than the registry's (nor the token
import type { Readable } from 'node:stream';
import type { RegistryImage } from '../../model/types.js';
import { describeExpiry } from '../../config/registry-credentials.js';
import type { RegistryCredential } from '../../config/registry-credentials.js';
import { secondsSince } from '../../async/clock.js';
import { errorCode, errorMessage } from '../errors.js';
import { authority } from '../net/proxy.js';
import type { FailureReason } from '../reasons.js';
import { parseWwwAuthenticate } from './registry-challenge.js';
import { boundedHost, isFailure, redactUrl, RegistryClient } from './registry-client.js';
import type { Answer, Failure } from './registry-client.js';
import { DIGEST_RE, MANIFEST_ACCEPT, describePlatforms, formatPlatform, matchesDigest, parseManifest, parsePlatform, selectPlatform, sha256Digest, smallestBlob } from './registry-manifest.js';
import type { Descriptor } from './registry-manifest.js';
import { DEFAULT_FIRST_BYTES, DEFAULT_MAX_REDIRECTS } from './registry-types.js';
import type { RegistryCredentialFacts, RegistryProbeOptions, RegistryResult, RegistryStep, RegistryStepResult } from './registry-types.js';

export * from './registry-types.js';
export { boundedHost, redactUrl } from './registry-client.js';

const MAX_JSON_BYTES = 64 * 1024;
/** The distribution spec's limit a registry must accept. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** An index that points to an index that points to a manifest is as deep as it gets. */
const MAX_MANIFEST_FETCHES = 3;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The `registry` label value: host, or host:port off 443. */
export function registryName(host: string, port: number): string {
  return port === 443 ? host : authority(host, port);
}
/** Registry error bodies: `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"..."}]}`. */
function registryError(body: Buffer | undefined): string | undefined {
  if (body === undefined || body.length === 0) return undefined;
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = Array.isArray(doc.errors) ? doc.errors[0] : undefined;
    if (first === undefined || typeof first.code !== 'string') return undefined;
    const message = typeof first.message === 'string' ? `: ${first.message}` : '';
    return `${first.code}${message}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 160);
  } catch {
    return undefined;
  }
}

/** One run of the check: its state, its resources, its result. */
class Run {
  readonly options: RegistryProbeOptions;
  readonly target: RegistryImage;
  readonly signal: AbortSignal;
  readonly result: RegistryResult;
  readonly http: RegistryClient;
  step: RegistryStep = 'ping';
  private stepStart = process.hrtime.bigint();
  private readonly base: URL;
  private readonly credential: RegistryCredential | undefined;
  /** Authorization for the registry's origin, once known. */
  private authorization: string | undefined;
  /** The Bearer challenge of GET /v2/. */
  private challenge: { realm: string; service: string | undefined } = { realm: '', service: undefined };

  constructor(target: RegistryImage, options: RegistryProbeOptions, signal: AbortSignal) {
    this.target = target;
    this.options = options;
    this.signal = signal;
    this.http = new RegistryClient(options, signal, () => this.step);
    this.base = new URL(`https://${authority(target.host, target.port)}`);
    this.result = { ok: false, registry: registryName(target.host, target.port), steps: {}, transcript: this.http.transcript, durationSeconds: 0 };
    this.credential = options.credentials?.ok === true ? options.credentials.credential : undefined;
    if (this.credential !== undefined) {
      const { username, password } = this.credential;
      this.http.remember(password.reveal());
      this.http.remember(encodeURIComponent(password.reveal()));
      this.http.remember(Buffer.from(`${username}:${password.reveal()}`).toString('base64'));
    }
  }

  private begin(step: RegistryStep, at: bigint = process.hrtime.bigint()): void {
    this.step = step;
    this.stepStart = at;
  }

  private end(ok: boolean, status?: number, at: bigint = process.hrtime.bigint()): void {
    const r: RegistryStepResult = { ok, seconds: secondsSince(this.stepStart, at) };
    if (status !== undefined) r.status = status;
    this.result.steps[this.step] = r;
  }

  /** Records the current step as failed; always returns false, for `return this.fail(...)`. */
  private fail(reason: FailureReason, message: string, status?: number): false {
    this.end(false, status);
    this.result.ok = false;
    this.result.reason = reason;
    this.result.failedStep = this.step;
    this.result.message = this.http.scrub(`${this.step}: ${message}`);
    return false;
  }

  private failWith(f: Failure, prefix = ''): false {
    return this.fail(f.reason, `${prefix}${f.message}`);
  }

  /** A body nobody needs: read when small (keeps the connection), else dropped. */
  private async discard(body: Readable): Promise<Buffer | undefined> {
    const read = await this.http.read(body, MAX_JSON_BYTES);
    return read instanceof Buffer ? read : undefined;
  }

  private statusProblem(answer: Answer, body: Buffer | undefined): string {
    const detail = registryError(body);
    return `${answer.status}${detail === undefined ? '' : ` (${detail})`}`;
  }

  private url(path: string): URL {
    return new URL(path, this.base);
  }

  async go(): Promise<void> {
    const unusable = this.http.prepare();
    if (unusable !== undefined) {
      this.failWith(unusable);
      return;
    }
    this.describeCredential();
    if (!(await this.ping())) return;
    const creds = this.options.credentials;
    if (creds !== undefined && !creds.ok) {
      this.begin('token');
      this.fail('registry_credentials_unusable', `${creds.unsupported ? 'unsupported credentials' : 'no usable credentials'}: ${creds.problem}`);
      return;
    }
    if (!(await this.authenticate())) return;
    const blob = await this.manifest();
    if (blob === undefined) return;
    if (!(await this.blob(blob))) return;
    this.result.ok = true;
    const platform = this.result.manifest?.platform;
    this.result.message = `pulled ${this.target.repository}:${this.target.reference}${platform === undefined ? '' : ` (${platform})`}: blob ${blob.digest.slice(0, 19)}... ${this.result.blobServedBy === 'redirect' ? `from ${this.result.blobHost ?? '?'}` : 'from the registry itself'}`;
  }

  private describeCredential(): void {
    const c = this.credential;
    if (c === undefined) return;
    const facts: RegistryCredentialFacts = {
      source: c.source,
      username: c.username.slice(0, 64),
      expiry: c.expiry.kind,
      note: describeExpiry(c.expiry, (this.options.now ?? Date.now)()),
    };
    if (c.expiry.kind === 'jwt') facts.expiresAtSeconds = c.expiry.expiresAtSeconds;
    this.result.credential = facts;
  }

  private async ping(): Promise<boolean> {
    this.begin('ping');
    const answer = await this.http.get(this.url('/v2/'), { accept: 'application/json' });
    if (!answer.ok) return this.failWith(answer);
    const body = await this.discard(answer.body);
    const status = answer.status;
    if (status === 200) {
      this.result.auth = 'none';
      this.end(true, status);
      return true;
    }
    if (status === 401) {
      const challenges = parseWwwAuthenticate(answer.challenges);
      const bearer = challenges.find((c) => c.scheme === 'bearer');
      const basic = challenges.find((c) => c.scheme === 'basic');
      if (bearer !== undefined && bearer.params.realm !== undefined && bearer.params.realm !== '') {
        this.result.auth = 'bearer';
        this.challenge = { realm: bearer.params.realm, service: bearer.params.service };
      } else if (basic !== undefined) {
        this.result.auth = 'basic';
      } else {
        return this.fail('http_bad_response', `GET /v2/ answered 401 without a Bearer or Basic challenge (WWW-Authenticate: ${JSON.stringify((answer.headers['www-authenticate'] ?? '').slice(0, 100))})`, status);
      }
      this.end(true, status);
      return true;
    }
    if (status === 403) return this.fail('registry_auth_failed', `GET /v2/ answered ${this.statusProblem(answer, body)}: the registry refuses this client`, status);
    return this.fail('http_bad_response', `GET /v2/ answered ${this.statusProblem(answer, body)}, not 200 or 401: not an OCI distribution registry answering`, status);
  }

  private basicAuthorization(): string | undefined {
    const c = this.credential;
    return c === undefined ? undefined : `Basic ${Buffer.from(`${c.username}:${c.password.reveal()}`).toString('base64')}`;
  }

  /** Whether the credential is a JWT whose exp has passed. */
  private expiredCredential(): string | undefined {
    const c = this.credential;
    if (c === undefined || c.expiry.kind !== 'jwt') return undefined;
    const now = (this.options.now ?? Date.now)();
    return c.expiry.expiresAtSeconds * 1000 <= now ? describeExpiry(c.expiry, now) : undefined;
  }

  private refused(what: string, answer: Answer, body: Buffer | undefined): false {
    const problem = this.statusProblem(answer, body);
    const expired = this.expiredCredential();
    if (expired !== undefined) return this.fail('registry_credentials_expired', `${what} answered ${problem}: ${expired}`, answer.status);
    const who = this.credential === undefined ? 'an anonymous client' : `the credentials of ${this.credential.username.slice(0, 64)} (${this.credential.origin})`;
    return this.fail('registry_auth_failed', `${what} answered ${problem}: refused ${who}`, answer.status);
  }

  private async authenticate(): Promise<boolean> {
    if (this.result.auth === 'none') return true;
    if (this.result.auth === 'basic') {
      const basic = this.basicAuthorization();
      if (basic === undefined) {
        this.begin('token');
        return this.fail('registry_auth_failed', 'the registry asks for basic auth and no credentials are configured');
      }
      this.authorization = basic;
      return true;
    }
    this.begin('token');
    let realm: URL;
    try {
      realm = new URL(this.challenge.realm);
    } catch {
      return this.fail('http_bad_response', `the Bearer challenge's realm is not a URL (${JSON.stringify(this.challenge.realm.slice(0, 100))})`);
    }
    if (realm.protocol !== 'https:') return this.fail('http_bad_response', `the token realm ${redactUrl(realm)} is not https: credentials and tokens are not sent in clear`);
    if (this.challenge.service !== undefined) realm.searchParams.set('service', this.challenge.service);
    realm.searchParams.set('scope', `repository:${this.target.repository}:pull`);
    const headers: Record<string, string> = { accept: 'application/json' };
    const basic = this.basicAuthorization();
    if (basic !== undefined) headers.authorization = basic;
    const answer = await this.http.get(realm, headers);
    if (!answer.ok) return this.failWith(answer, `token endpoint ${realm.host}: `);
    const body = await this.http.read(answer.body, MAX_JSON_BYTES);
    if (isFailure(body)) return this.failWith(body, `token endpoint ${realm.host}: `);
    if (answer.status === 401 || answer.status === 403) return this.refused(`the token endpoint ${realm.host}`, answer, body);
    if (answer.status !== 200) return this.fail('http_bad_response', `the token endpoint ${realm.host} answered ${this.statusProblem(answer, body)}`, answer.status);
    if (body === undefined) return this.fail('http_bad_response', `the token endpoint's answer is larger than ${MAX_JSON_BYTES} bytes`, answer.status);
    let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      doc = JSON.parse(body.toString('utf8')) as typeof doc;
    } catch {
      return this.fail('http_bad_response', 'the token endpoint answered 200 with a body that is not JSON', answer.status);
    }
    const token = typeof doc.token === 'string' && doc.token !== '' ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : '';
    if (token === '') return this.fail('http_bad_response', 'the token endpoint answered 200 without a token', answer.status);
    this.http.remember(token);
    this.authorization = `Bearer ${token}`;
    // The spec's default lifetime is 60 s.
    const lifetime = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60;
    const issued = typeof doc.issued_at === 'string' ? Date.parse(doc.issued_at) : Number.NaN;
    const from = Number.isFinite(issued) ? issued : (this.options.now ?? Date.now)();
    this.result.tokenExpiresAtSeconds = Math.floor(from / 1000) + Math.floor(lifetime);
    this.end(true, answer.status);
    return true;
  }

  private authHeaders(accept: string): Record<string, string> {
    return this.authorization === undefined ? { accept } : { accept, authorization: this.authorization };
  }

  private async manifest(): Promise<Descriptor | undefined> {
    this.begin('manifest');
    const repo = this.target.repository;
    const want = parsePlatform(this.target.platform);
    let reference = this.target.reference;
    let picked: string | undefined;
    for (let fetch = 0; fetch < MAX_MANIFEST_FETCHES; fetch++) {
      const what = `${repo}${reference.includes(':') ? '@' : ':'}${reference}`;
      const answer = await this.http.get(this.url(`/v2/${repo}/manifests/${reference}`), this.authHeaders(MANIFEST_ACCEPT));
      if (!answer.ok) {
        this.failWith(answer);
        return undefined;
      }
      const body = await this.http.read(answer.body, answer.status === 200 ? MAX_MANIFEST_BYTES : MAX_JSON_BYTES);
      if (isFailure(body)) {
        this.failWith(body, `manifest ${what}: `);
        return undefined;
      }
      const status = answer.status;
      if (status === 401 || status === 403) {
        this.refused(`GET manifest ${what}`, answer, body);
        return undefined;
      }
      if (status === 404) {
        this.fail('registry_not_found', `manifest ${what} not found: ${this.statusProblem(answer, body)}`, status);
        return undefined;
      }
      if (status !== 200) {
        this.fail('http_bad_response', `GET manifest ${what} answered ${this.statusProblem(answer, body)}`, status);
        return undefined;
      }
      if (body === undefined) {
        this.fail('http_bad_response', `manifest ${what} is larger than ${MAX_MANIFEST_BYTES} bytes`, status);
        return undefined;
      }
      if (DIGEST_RE.test(reference) && !matchesDigest(body, reference)) {
        this.fail('http_bad_response', `manifest ${what} does not match its digest: not the manifest asked for`, status);
        return undefined;
      }
      const parsed = parseManifest(body, answer.headers['content-type']);
      if (parsed.kind === 'invalid') {
        this.fail('http_bad_response', `manifest ${what}: ${parsed.problem}`, status);
        return undefined;
      }
      if (parsed.kind === 'index') {
        const entry = selectPlatform(parsed.manifests, want);
        if (entry === undefined) {
          this.fail('registry_not_found', `the index of ${what} has no ${formatPlatform(want)} manifest (it has ${describePlatforms(parsed.manifests)})`, status);
          return undefined;
        }
        picked = entry.platform === undefined ? formatPlatform(want) : formatPlatform(entry.platform);
        reference = entry.digest;
        continue;
      }
      const blob = smallestBlob(parsed.blobs);
      this.result.manifest = { digest: sha256Digest(body), mediaType: parsed.mediaType };
      if (picked !== undefined) this.result.manifest.platform = picked;
      if (blob === undefined) {
        this.fail('http_bad_response', `manifest ${what} names no blob to fetch`, status);
        return undefined;
      }
      this.result.manifest.blobDigest = blob.digest;
      this.result.manifest.blobSize = blob.size;
      this.end(true, status);
      return blob;
    }
    this.fail('http_bad_response', `more than ${MAX_MANIFEST_FETCHES} manifests deep: an index inside an index inside an index`);
    return undefined;
  }

  private async blob(blob: Descriptor): Promise<boolean> {
    const firstBytes = Math.max(1, this.options.firstBytes ?? DEFAULT_FIRST_BYTES);
    const want = Math.min(blob.size, firstBytes);
    const maxRedirects = this.options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
    const registryOrigin = this.base.origin;
    this.begin('blob_redirect');
    let url = this.url(`/v2/${this.target.repository}/blobs/${blob.digest}`);
    const seen = [url.href];
    for (let hop = 0; ; hop++) {
      const origin = this.http.origin(url);
      const host = boundedHost(url.hostname);
      if (!origin.connected) {
        const failed = await origin.open();
        if (failed !== undefined) return this.failWith(failed, `the registry redirected the blob to ${host}, which cannot be reached: `);
      }
      const sent = process.hrtime.bigint();
      const headers: Record<string, string> = url.origin === registryOrigin ? this.authHeaders('*/*') : { accept: '*/*' };
      headers.range = `bytes=0-${want - 1}`;
      const answer = await this.http.get(url, headers);
      const where = hop === 0 ? 'the registry' : `the blob host ${host}`;
      // The blob host was reached: what it answers belongs to blob_first_byte.
      const atBlobHost = () => {
        this.end(true, undefined, sent);
        this.begin('blob_first_byte', sent);
      };
      if (!answer.ok) {
        if (hop > 0) atBlobHost();
        return this.failWith(answer, hop > 0 ? `${where}: ` : '');
      }
      const status = answer.status;
      if (REDIRECTS.has(status)) {
        await this.discard(answer.body);
        const location = answer.headers.location;
        if (location === undefined || location === '') return this.fail('http_bad_response', `${where} answered ${status} without a Location`, status);
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          return this.fail('http_bad_response', `${where} answered ${status} with a Location that is not a URL`, status);
        }
        this.result.blobHost = boundedHost(next.hostname);
        this.result.blobServedBy = 'redirect';
        if (next.protocol !== 'https:') return this.fail('http_bad_response', `${where} redirected the blob to ${redactUrl(next)}, which is not https`, status);
        if (seen.includes(next.href)) return this.fail('registry_redirect_loop', `${where} redirected the blob back to ${redactUrl(next)}, seen before: a redirect loop`, status);
        if (hop + 1 > maxRedirects) return this.fail('registry_redirect_loop', `more than ${maxRedirects} redirects for one blob (the last to ${this.result.blobHost})`, status);
        seen.push(next.href);
        url = next;
        continue;
      }
      if (status === 200 || status === 206) {
        if (hop === 0) {
          this.result.blobServedBy = 'registry';
          this.begin('blob_first_byte', sent);
        } else atBlobHost();
        return this.firstBytes(answer, blob, want, where);
      }
      const body = await this.discard(answer.body);
      if (hop === 0 && (status === 401 || status === 403)) return this.refused('GET blob', answer, body);
      if (hop === 0 && status === 404) return this.fail('registry_not_found', `blob ${blob.digest} not found: ${this.statusProblem(answer, body)}`, status);
      if (hop > 0) atBlobHost();
      return this.fail('http_bad_response', `${where} answered ${this.statusProblem(answer, body)} to the blob request`, status);
    }
  }

  private async firstBytes(answer: Answer, blob: Descriptor, want: number, where: string): Promise<boolean> {
    const chunks: Buffer[] = [];
    let size = 0;
    let firstAt: bigint | undefined;
    try {
      for await (const chunk of answer.body) {
        const buf = chunk as Buffer;
        firstAt ??= process.hrtime.bigint();
        chunks.push(buf);
        size += buf.length;
        if (size >= want) break;
      }
    } catch (err) {
      if (firstAt === undefined) {
        if (this.signal.aborted) return this.fail('timeout', `${where} sent no byte of the blob before the deadline`, answer.status);
        return this.fail('reset', `${where} closed the connection before the first byte of the blob (${errorCode(err) || 'error'})`, answer.status);
      }
    } finally {
      answer.body.destroy();
    }
    if (firstAt === undefined) return this.fail('http_bad_response', `${where} answered ${answer.status} with an empty body`, answer.status);
    this.end(true, answer.status, firstAt);
    const got = Buffer.concat(chunks).subarray(0, want);
    if (this.result.manifest !== undefined && want === blob.size && got.length === blob.size) {
      const verified = matchesDigest(got, blob.digest);
      this.result.manifest.blobVerified = verified;
      if (!verified) return this.fail('http_bad_response', `${where} served ${got.length} bytes that do not match the blob digest: not the blob`, answer.status);
    }
    return true;
  }
}

/** Checks the pull path of one registry over one path. Never throws. */
export async function probeRegistry(target: RegistryImage, options: RegistryProbeOptions, signal: AbortSignal): Promise<RegistryResult> {
  const start = process.hrtime.bigint();
  const run = new Run(target, options, signal);
  try {
    await run.go();
  } catch (err) {
    const r = run.result;
    r.ok = false;
    r.reason = 'internal_error';
    r.failedStep = run.step;
    r.message = run.http.scrub(`${run.step}: registry probe bug: ${errorMessage(err)}`);
  } finally {
    await run.http.release();
  }
  run.result.durationSeconds = secondsSince(start);
  return run.result;
}
