// Basic auth's bounds: bcrypt runs on a worker thread, never on the event loop;
// beyond a few comparisons at once the answer is 429 at once; verdicts are cached.
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { PassThrough } from 'node:stream';
import express from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../logging/logger.js';
import { basicAuth, parseBasicAuthorization } from './basic-auth.js';
import { PasswordChecker } from './password-check.js';

// bcrypt on the main thread would throw: every comparison below must run in the worker,
// which loads bcryptjs on its own. Hashing (to make the test users) stays allowed.
vi.mock('bcryptjs', async (importOriginal) => {
  const real = await importOriginal<{ default: Record<string, unknown> }>();
  const refuse = (): never => {
    throw new Error('bcrypt compare on the main thread');
  };
  return { default: { ...real.default, compare: refuse, compareSync: refuse } };
});
const { default: bcrypt } = await import('bcryptjs');

const PASSWORD = 'correct horse battery staple';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function authServer(hashCost: number, maxChecks?: number): Promise<{ url: string; passwords: PasswordChecker; logs: () => Array<Record<string, unknown>> }> {
  const users = new Map([['prometheus', bcrypt.hashSync(PASSWORD, hashCost)]]);
  const passwords = new PasswordChecker(maxChecks);
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const app = express();
  app.use(basicAuth(createLogger('info', 'json', out), { exempt: ['/-/healthy'], users: () => users, passwords }));
  app.get('/metrics', (_req, res) => {
    res.type('text/plain').send('egress_up 1\n');
  });
  const server = http.createServer(app);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
    await passwords.close();
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    passwords,
    logs: () => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; retryAfter: string | null; body: string }> {
  const response = await fetch(url, { headers });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.text() };
}

describe('basicAuth', () => {
  it('checks passwords on a worker thread (bcrypt on the main thread would throw here)', async () => {
    const { url } = await authServer(4);
    expect((await get(url, basic('prometheus', PASSWORD))).status).toBe(200);
    expect((await get(url, basic('prometheus', 'wrong'))).status).toBe(401);
    expect((await get(url, basic('mallory', PASSWORD))).status).toBe(401);
  });

  it('answers 429 with Retry-After beyond the cap of comparisons at once, and logs that once', async () => {
    // The cap is 1, and cost 12 keeps the first comparison busy while the others arrive.
    const { url, passwords, logs } = await authServer(12, 1);
    const first = get(url, basic('prometheus', 'wrong-a'));
    await vi.waitFor(() => expect(passwords.inFlight).toBe(1));
    const answers = await Promise.all(['b', 'c', 'd'].map((p) => get(url, basic('prometheus', `wrong-${p}`))));
    for (const busy of answers) {
      expect(busy).toEqual({ status: 429, retryAfter: '1', body: 'Too many password checks at once; retry shortly\n' });
    }
    expect((await first).status).toBe(401);
    expect(logs().filter((l) => String(l.msg).startsWith('basic auth: too many password checks at once'))).toHaveLength(1);
    // Once the comparison is done, the right password gets through.
    expect((await get(url, basic('prometheus', PASSWORD))).status).toBe(200);
  });

  it('remembers verdicts: a known password or a known wrong one costs no comparison, even while busy', async () => {
    const { url, passwords } = await authServer(12, 1);
    expect((await get(url, basic('prometheus', PASSWORD))).status).toBe(200);
    expect((await get(url, basic('prometheus', 'wrong'))).status).toBe(401);
    // A new wrong password takes the only slot; the two known verdicts still answer at once.
    const busy = get(url, basic('prometheus', 'another-wrong'));
    await vi.waitFor(() => expect(passwords.inFlight).toBe(1));
    expect((await get(url, basic('prometheus', PASSWORD))).status).toBe(200);
    expect((await get(url, basic('prometheus', 'wrong'))).status).toBe(401);
    expect((await get(url, basic('prometheus', 'yet-another'))).status).toBe(429);
    expect((await busy).status).toBe(401);
  });
});

describe('parseBasicAuthorization', () => {
  it('parses Authorization headers', () => {
    expect(parseBasicAuthorization(basic('a', 'b:c').authorization)).toEqual({ user: 'a', password: 'b:c' });
    expect(parseBasicAuthorization('basic ' + Buffer.from('ü:p').toString('base64'))).toEqual({ user: 'ü', password: 'p' });
    expect(parseBasicAuthorization('Bearer abc')).toBeNull();
    expect(parseBasicAuthorization(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toBeNull();
    expect(parseBasicAuthorization(undefined)).toBeNull();
  });
});
