// HTTP basic auth with the web config's bcrypt users, as exporter-toolkit does
// it: every path but the exempt ones needs credentials; a verdict once reached
// is remembered (keyed by a digest of user, password and hash, so a changed
// hash never matches an old entry), so a scrape every few seconds costs no
// bcrypt; comparisons run off the event loop, a few at a time (password-check.ts).
import { createHash } from 'node:crypto';
import type express from 'express';
import type { Logger } from '../logging/logger.js';
import type { PasswordChecker } from './password-check.js';

export interface BasicAuthOptions {
  /** Paths served without credentials, compared exactly: ['/-/healthy', '/-/ready']. */
  exempt: readonly string[];
  /** User name -> bcrypt hash, read on every request (a reload applies at once). Empty: no auth. */
  users: () => ReadonlyMap<string, string>;
  passwords: PasswordChecker;
}

/** Verdicts remembered, each kind on its own: a flood of wrong passwords never evicts a good one. */
const CACHE_MAX_ENTRIES = 256;
const REALM = 'egress-exporter';
/** User names longer than this are cut in logs. */
const LOGGED_USER_MAX_CHARS = 64;
/** At most one "too many checks" warning in this long. */
const BUSY_LOG_INTERVAL_MS = 60_000;

/** `$2a$`, `$2b$` or `$2y$`, a two-digit cost, then 22 characters of salt and 31 of hash. */
const BCRYPT_HASH = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const BCRYPT_MIN_COST = 4;
const BCRYPT_MAX_COST = 31;

/**
 * Why `hash` cannot be a user's bcrypt hash of the web config, or undefined
 * when it can. The value is never echoed: someone may have put a plain password there.
 */
export function bcryptHashProblem(hash: unknown): string | undefined {
  const match = typeof hash === 'string' ? BCRYPT_HASH.exec(hash) : null;
  if (match === null) return 'expected a bcrypt hash ($2a$, $2b$ or $2y$, a cost, then 53 characters), got something else (not shown: it may be a password)';
  const cost = Number(match[1]);
  if (cost < BCRYPT_MIN_COST || cost > BCRYPT_MAX_COST) return `expected a bcrypt cost from ${BCRYPT_MIN_COST} to ${BCRYPT_MAX_COST}, got ${cost}`;
  return undefined;
}

/** The user and password of an `Authorization: Basic` header, or null. */
export function parseBasicAuthorization(header: string | undefined): { user: string; password: string } | null {
  if (header === undefined) return null;
  const match = /^Basic[ \t]+([A-Za-z0-9+/=_-]+)[ \t]*$/i.exec(header);
  if (match === null || match[1] === undefined) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * A hash no password matches, with the cost of the configured ones: an unknown
 * user costs as much time as a wrong password, so timing does not reveal which
 * user names exist. (bcrypt's work depends on the cost, not on the salt.)
 */
function decoyHash(users: ReadonlyMap<string, string>): string {
  const costs = [...users.values()].map((hash) => Number(hash.slice(4, 6)));
  const cost = costs.length === 0 ? 10 : Math.max(...costs);
  return `$2b$${String(cost).padStart(2, '0')}$${'decoysalt'.padEnd(22, 'x')}${'decoyhash'.padEnd(31, 'x')}`;
}

/** A set that forgets its oldest entry beyond `max`. */
class BoundedSet {
  private readonly entries = new Set<string>();
  constructor(private readonly max: number) {}
  has(key: string): boolean {
    return this.entries.has(key);
  }
  add(key: string): void {
    if (this.entries.size >= this.max) {
      const oldest = this.entries.values().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.add(key);
  }
}

/**
 * Requires HTTP basic auth on every path but the exempt ones, while users are
 * configured. Missing or wrong credentials get 401 with a `WWW-Authenticate`
 * challenge; wrong ones are logged (user, path, remote address; never the
 * password). When too many comparisons are already under way, 429 with
 * `Retry-After`.
 */
export function basicAuth(logger: Logger, options: BasicAuthOptions): express.RequestHandler {
  const exempt = new Set(options.exempt);
  const good = new BoundedSet(CACHE_MAX_ENTRIES);
  const bad = new BoundedSet(CACHE_MAX_ENTRIES);
  const decoys = new WeakMap<ReadonlyMap<string, string>, string>();
  let busyLoggedAt = -Infinity;

  /** true or false; undefined when the comparison could not even start (too busy). */
  const verify = async (users: ReadonlyMap<string, string>, user: string, password: string): Promise<boolean | undefined> => {
    const known = users.get(user);
    let hash = known;
    if (hash === undefined) {
      hash = decoys.get(users) ?? decoyHash(users);
      decoys.set(users, hash);
    }
    const key = createHash('sha256').update(JSON.stringify([user, password, hash])).digest('hex');
    if (good.has(key)) return true;
    if (bad.has(key)) return false;
    const pending = options.passwords.check(password, hash);
    if (pending === undefined) return undefined;
    const matched = await pending;
    // The worker failed (logged where it failed): deny, and remember nothing.
    if (matched === undefined) return false;
    const ok = matched && known !== undefined;
    (ok ? good : bad).add(key);
    return ok;
  };

  const deny = (res: express.Response): void => {
    res.status(401).set('WWW-Authenticate', `Basic realm="${REALM}"`).type('text/plain').send('Unauthorized\n');
  };

  return (req, res, next) => {
    const users = options.users();
    if (users.size === 0 || exempt.has(req.path)) {
      next();
      return;
    }
    const credentials = parseBasicAuthorization(req.headers.authorization);
    if (credentials === null) {
      deny(res);
      return;
    }
    verify(users, credentials.user, credentials.password).then(
      (ok) => {
        if (ok === true) {
          next();
          return;
        }
        if (ok === undefined) {
          const now = Date.now();
          if (now - busyLoggedAt >= BUSY_LOG_INTERVAL_MS) {
            busyLoggedAt = now;
            logger.warn({ path: req.path, remote: req.socket.remoteAddress }, 'basic auth: too many password checks at once: answering 429 (logged once a minute)');
          }
          res.status(429).set('Retry-After', '1').type('text/plain').send('Too many password checks at once; retry shortly\n');
          return;
        }
        logger.warn(
          { user: credentials.user.slice(0, LOGGED_USER_MAX_CHARS), path: req.path, remote: req.socket.remoteAddress },
          'basic auth failed: unknown user or wrong password',
        );
        deny(res);
      },
      (err: unknown) => next(err),
    );
  };
}
