import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import bcrypt from 'bcryptjs';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getPki, runOpenssl } from '../../test/fixtures/pki.js';
import type { Pki } from '../../test/fixtures/pki.js';
import { createLogger } from '../logging/logger.js';
import { loadWebConfig, WebConfigError } from './web-config.js';
import { tlsServerOptions } from './web-tls.js';
import { WebServer } from './web-server.js';
import type { WebConfig } from './web-config.js';

let dir: string;
let pki: Pki;
/** A client certificate and its CA, made here: the shared test PKI only has server leaves. */
let client: { ca: string; cert: string; key: string };
const PASSWORD = 'correct horse battery staple';
let passwordHash: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'egress-web-config-'));
  pki = await getPki();
  await writeFile(join(dir, 'cert.pem'), pki.ecdsa.chain);
  await writeFile(join(dir, 'key.pem'), pki.ecdsa.key);
  await writeFile(join(dir, 'rsa-key.pem'), pki.rsa.key);
  await writeFile(join(dir, 'not-pem.txt'), 'hello\n');
  const { privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' },
  });
  await writeFile(join(dir, 'encrypted-key.pem'), privateKey);

  const ossl = (args: string[]) => runOpenssl(args, dir);
  await writeFile(join(dir, 'client-ext.cnf'), '[v3]\nbasicConstraints = critical, CA:FALSE\nextendedKeyUsage = clientAuth\n');
  await ossl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'client-ca.key', '-out', 'client-ca.pem',
    '-subj', '/O=Egress Test/CN=Client CA', '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  await ossl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'client.key', '-out', 'client.csr',
    '-subj', '/O=Egress Test/CN=prometheus']);
  await ossl(['x509', '-req', '-in', 'client.csr', '-CA', 'client-ca.pem', '-CAkey', 'client-ca.key', '-set_serial', '7', '-days', '2',
    '-extfile', 'client-ext.cnf', '-extensions', 'v3', '-out', 'client.pem']);
  const read = (name: string) => readFile(join(dir, name), 'utf8');
  client = { ca: await read('client-ca.pem'), cert: await read('client.pem'), key: await read('client.key') };
  // Cost 4, the minimum, keeps the tests fast; the code path is the same.
  passwordHash = await bcrypt.hash(PASSWORD, 4);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeWeb(name: string, yaml: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, yaml);
  return file;
}

const TLS_BASE = 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n';

// ---------------------------------------------------------------------------
// Servers

const servers: Array<http.Server | https.Server> = [];
const webServers: WebServer[] = [];
afterEach(async () => {
  for (const webServer of webServers.splice(0)) await webServer.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  }
});

/** Serves a tiny app with `web` in force (auth on every path but /-/healthy), on a loopback port. */
async function serve(web: WebConfig | null, logger = createLogger('info', 'json', new PassThrough())): Promise<number> {
  const webServer = new WebServer(web, logger);
  webServers.push(webServer);
  const app = express();
  app.use(webServer.auth(['/-/healthy']));
  app.get('/metrics', (_req, res) => {
    res.type('text/plain').send('egress_up 1\n');
  });
  app.get('/-/healthy', (_req, res) => {
    res.type('text/plain').send('Healthy\n');
  });
  const server = webServer.createServer(app);
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return (server.address() as AddressInfo).port;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The negotiated TLS version, for HTTPS. */
  protocol: string | null;
}

function request(url: string, options: https.RequestOptions = {}): Promise<Answer> {
  const module = url.startsWith('https:') ? https : http;
  return new Promise((done, fail) => {
    const req = module.request(url, { agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const socket = res.socket as { getProtocol?: () => string | null };
        done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), protocol: socket.getProtocol?.() ?? null });
      });
      res.on('error', fail);
    });
    req.on('error', fail);
    req.setTimeout(5000, () => req.destroy(new Error('request timed out')));
    req.end();
  });
}

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

// ---------------------------------------------------------------------------

describe('loadWebConfig', () => {
  it('reads TLS, headers and users, with defaults and paths relative to the file', async () => {
    const file = await writeWeb(
      'full.yml',
      `${TLS_BASE}http_server_config:\n  http2: false\n  headers:\n    X-Frame-Options: deny\nbasic_auth_users:\n  prometheus: ${passwordHash}\n`,
    );
    const web = await loadWebConfig(file);
    expect(web.file).toBe(file);
    expect(web.tls).toMatchObject({
      certFile: join(dir, 'cert.pem'),
      keyFile: join(dir, 'key.pem'),
      minVersion: 'TLS12',
      maxVersion: 'TLS13',
      clientAuthType: 'NoClientCert',
      clientCaFile: null,
      preferServerCipherSuites: true,
    });
    expect(web.headers).toEqual({ 'X-Frame-Options': 'deny' });
    expect([...web.basicAuthUsers]).toEqual([['prometheus', passwordHash]]);
    expect(tlsServerOptions(web.tls!)).toMatchObject({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', requestCert: false });
  });

  it('gives plain HTTP without authentication for an empty file', async () => {
    const web = await loadWebConfig(await writeWeb('empty.yml', '# nothing\n'));
    expect(web).toEqual({ file: join(dir, 'empty.yml'), tls: null, headers: {}, basicAuthUsers: new Map() });
  });

  // Each invalid file with the exact problems it must produce, in file order.
  // FILE and DIR stand for the file's path and its directory.
  const INVALID: Array<{ name: string; yaml: string; problems: string[] }> = [
    { name: 'YAML syntax error', yaml: 'tls_server_config: [\n', problems: ['FILE: invalid YAML at line 2, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]'] },
    { name: 'a list at the top level', yaml: '- a\n', problems: ['FILE: expected a mapping at the top level, got a list'] },
    { name: 'unknown top-level key', yaml: 'basic_auth:\n  alice: x\n', problems: ['FILE: basic_auth: unknown key'] },
    { name: 'unknown key in tls_server_config', yaml: `${TLS_BASE}  min_versoin: TLS13\n`, problems: ['FILE: tls_server_config.min_versoin: unknown key'] },
    {
      name: 'bad min_version',
      yaml: `${TLS_BASE}  min_version: TLS1.2\n`,
      problems: ['FILE: tls_server_config.min_version: expected one of TLS10, TLS11, TLS12, TLS13, got "TLS1.2"'],
    },
    {
      name: 'min_version above max_version',
      yaml: `${TLS_BASE}  min_version: TLS13\n  max_version: TLS12\n`,
      problems: ['FILE: tls_server_config.min_version: must not be above max_version (TLS12), got TLS13'],
    },
    { name: 'tls section as a string', yaml: 'tls_server_config: on\n', problems: ['FILE: tls_server_config: expected a mapping, got "on"'] },
    { name: 'key_file missing', yaml: 'tls_server_config:\n  cert_file: cert.pem\n', problems: ['FILE: tls_server_config.key_file: required'] },
    { name: 'cert_file as a number', yaml: 'tls_server_config:\n  cert_file: 5\n  key_file: key.pem\n', problems: ['FILE: tls_server_config.cert_file: expected a file path, got 5'] },
    {
      name: 'missing cert file',
      yaml: 'tls_server_config:\n  cert_file: missing.pem\n  key_file: key.pem\n',
      problems: ['FILE: tls_server_config.cert_file: cannot read "DIR/missing.pem": no such file or directory (ENOENT)'],
    },
    {
      name: 'cert file that is not PEM',
      yaml: 'tls_server_config:\n  cert_file: not-pem.txt\n  key_file: key.pem\n',
      problems: ['FILE: tls_server_config.cert_file: expected PEM certificates (-----BEGIN CERTIFICATE-----), got none in "DIR/not-pem.txt"'],
    },
    {
      name: 'key file that is a certificate',
      yaml: 'tls_server_config:\n  cert_file: cert.pem\n  key_file: cert.pem\n',
      problems: ['FILE: tls_server_config.key_file: expected a PEM private key (-----BEGIN PRIVATE KEY-----), got none in "DIR/cert.pem"'],
    },
    {
      name: 'encrypted key',
      yaml: 'tls_server_config:\n  cert_file: cert.pem\n  key_file: encrypted-key.pem\n',
      problems: ['FILE: tls_server_config.key_file: the private key in "DIR/encrypted-key.pem" is encrypted: egress-exporter needs it unencrypted'],
    },
    {
      name: 'key not matching the certificate',
      yaml: 'tls_server_config:\n  cert_file: cert.pem\n  key_file: rsa-key.pem\n',
      problems: ['FILE: tls_server_config.key_file: the private key in "DIR/rsa-key.pem" does not match the certificate in "DIR/cert.pem"'],
    },
    {
      name: 'cipher_suites',
      yaml: `${TLS_BASE}  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n`,
      problems: ['FILE: tls_server_config.cipher_suites: not supported by egress-exporter: Node.js chooses the cipher suites; remove the key'],
    },
    {
      name: 'curve_preferences',
      yaml: `${TLS_BASE}  curve_preferences: [X25519]\n`,
      problems: ['FILE: tls_server_config.curve_preferences: not supported by egress-exporter: Node.js chooses the key exchange groups; remove the key'],
    },
    {
      name: 'inline cert',
      yaml: 'tls_server_config:\n  cert: "-----BEGIN CERTIFICATE-----"\n  key_file: key.pem\n',
      problems: ['FILE: tls_server_config.cert: not supported by egress-exporter: put the certificate in a file and use cert_file'],
    },
    {
      name: 'unsupported client_auth_type',
      yaml: `${TLS_BASE}  client_auth_type: RequireAnyClientCert\n`,
      problems: [
        'FILE: tls_server_config.client_auth_type: expected NoClientCert or RequireAndVerifyClientCert, got "RequireAnyClientCert" (RequireAnyClientCert is not supported by egress-exporter)',
      ],
    },
    {
      name: 'unknown client_auth_type',
      yaml: `${TLS_BASE}  client_auth_type: Always\n`,
      problems: ['FILE: tls_server_config.client_auth_type: expected NoClientCert or RequireAndVerifyClientCert, got "Always"'],
    },
    {
      name: 'RequireAndVerifyClientCert without client_ca_file',
      yaml: `${TLS_BASE}  client_auth_type: RequireAndVerifyClientCert\n`,
      problems: ['FILE: tls_server_config.client_ca_file: required when client_auth_type is RequireAndVerifyClientCert'],
    },
    {
      name: 'client_ca_file without client_auth_type',
      yaml: `${TLS_BASE}  client_ca_file: client-ca.pem\n`,
      problems: ['FILE: tls_server_config.client_ca_file: set, but client_auth_type is NoClientCert: set client_auth_type: RequireAndVerifyClientCert'],
    },
    {
      name: 'unreadable client_ca_file',
      yaml: `${TLS_BASE}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: nope.pem\n`,
      problems: ['FILE: tls_server_config.client_ca_file: cannot read "DIR/nope.pem": no such file or directory (ENOENT)'],
    },
    { name: 'rate_limit', yaml: 'rate_limit:\n  burst: 10\n', problems: ['FILE: rate_limit: not supported by egress-exporter'] },
    {
      name: 'a header that cannot be configured',
      yaml: 'http_server_config:\n  headers:\n    Server: egress\n',
      problems: [
        'FILE: http_server_config.headers.Server: cannot be configured: expected one of Content-Security-Policy, Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-XSS-Protection',
      ],
    },
    {
      name: 'a header with a value outside its set',
      yaml: 'http_server_config:\n  headers:\n    X-Frame-Options: allow\n',
      problems: ['FILE: http_server_config.headers.X-Frame-Options: expected one of deny, sameorigin, got "allow"'],
    },
    { name: 'http2 not a boolean', yaml: 'http_server_config:\n  http2: yes please\n', problems: ['FILE: http_server_config.http2: expected true or false, got "yes please"'] },
    {
      name: 'a plain password instead of a bcrypt hash (not echoed)',
      yaml: 'basic_auth_users:\n  alice: hunter2\n',
      problems: ['FILE: basic_auth_users.alice: expected a bcrypt hash ($2a$, $2b$ or $2y$, a cost, then 53 characters), got something else (not shown: it may be a password)'],
    },
    {
      name: 'a bcrypt cost below 4',
      yaml: `basic_auth_users:\n  alice: "$2y$03$${'a'.repeat(53)}"\n`,
      problems: ['FILE: basic_auth_users.alice: expected a bcrypt cost from 4 to 31, got 3'],
    },
    {
      name: 'a user name with a colon',
      yaml: `basic_auth_users:\n  "a:b": "$2y$10$${'a'.repeat(53)}"\n`,
      problems: ['FILE: basic_auth_users."a:b": a user name must not be empty nor contain ":" (HTTP basic auth cannot carry it)'],
    },
    {
      name: 'every problem, in file order',
      yaml: 'tls_server_config:\n  cert_file: cert.pem\n  min_version: 1.3\n  key_file: key.pem\nfoo: 1\nbasic_auth_users:\n  bob: secret\n',
      problems: [
        'FILE: tls_server_config.min_version: expected one of TLS10, TLS11, TLS12, TLS13, got 1.3',
        'FILE: foo: unknown key',
        'FILE: basic_auth_users.bob: expected a bcrypt hash ($2a$, $2b$ or $2y$, a cost, then 53 characters), got something else (not shown: it may be a password)',
      ],
    },
  ];

  it.each(INVALID)('rejects: $name', async ({ name, yaml, problems }) => {
    const file = await writeWeb(`invalid-${name.replace(/\W+/g, '-')}.yml`, yaml);
    const error = await loadWebConfig(file).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(WebConfigError);
    expect((error as WebConfigError).code).toBe('EGRESS_WEB_CONFIG_INVALID');
    expect((error as WebConfigError).problems).toEqual(problems.map((p) => p.replaceAll('FILE', file).replaceAll('DIR', dir)));
    expect((error as WebConfigError).message).not.toContain('hunter2');
  });

  it('names an unreadable web config file', async () => {
    const file = join(dir, 'absent.yml');
    await expect(loadWebConfig(file)).rejects.toThrow(`${file}: cannot read the web config file: no such file or directory (ENOENT)`);
  });
});

describe('HTTPS', () => {
  it('serves TLS 1.2 and 1.3 with the default min_version TLS12', async () => {
    const web = await loadWebConfig(await writeWeb('tls.yml', TLS_BASE));
    const port = await serve(web);
    const tls12 = await request(`https://127.0.0.1:${port}/metrics`, { ca: pki.rootCa, maxVersion: 'TLSv1.2' });
    expect(tls12).toMatchObject({ status: 200, body: 'egress_up 1\n', protocol: 'TLSv1.2' });
    const tls13 = await request(`https://127.0.0.1:${port}/metrics`, { ca: pki.rootCa });
    expect(tls13).toMatchObject({ status: 200, protocol: 'TLSv1.3' });
  });

  it('refuses a TLS 1.2-only client with min_version TLS13', async () => {
    const web = await loadWebConfig(await writeWeb('tls13.yml', `${TLS_BASE}  min_version: TLS13\n`));
    const port = await serve(web);
    await expect(request(`https://127.0.0.1:${port}/metrics`, { ca: pki.rootCa, maxVersion: 'TLSv1.2' })).rejects.toThrow(/alert protocol version/);
    expect(await request(`https://127.0.0.1:${port}/metrics`, { ca: pki.rootCa })).toMatchObject({ status: 200, protocol: 'TLSv1.3' });
  });

  it('refuses a TLS 1.3 client with max_version TLS12', async () => {
    const web = await loadWebConfig(await writeWeb('tls12.yml', `${TLS_BASE}  max_version: TLS12\n`));
    const port = await serve(web);
    await expect(request(`https://127.0.0.1:${port}/metrics`, { ca: pki.rootCa, minVersion: 'TLSv1.3' })).rejects.toThrow(/alert protocol version/);
  });

  it('requires a client certificate from the client CA with RequireAndVerifyClientCert', async () => {
    await writeFile(join(dir, 'client-ca.pem'), client.ca);
    const web = await loadWebConfig(
      await writeWeb('mtls.yml', `${TLS_BASE}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: client-ca.pem\n`),
    );
    const port = await serve(web);
    const url = `https://127.0.0.1:${port}/metrics`;
    expect(await request(url, { ca: pki.rootCa, cert: client.cert, key: client.key })).toMatchObject({ status: 200 });
    await expect(request(url, { ca: pki.rootCa })).rejects.toThrow();
    // A certificate from another CA (the server's own leaf) is refused too.
    await expect(request(url, { ca: pki.rootCa, cert: pki.rsa.chain, key: pki.rsa.key })).rejects.toThrow();
  });

  it('sets the configured headers on every response, 401s included', async () => {
    const web = await loadWebConfig(
      await writeWeb('headers.yml', `http_server_config:\n  headers:\n    X-Frame-Options: deny\n    X-Content-Type-Options: nosniff\nbasic_auth_users:\n  p: ${passwordHash}\n`),
    );
    const port = await serve(web);
    for (const path of ['/metrics', '/-/healthy']) {
      const answer = await request(`http://127.0.0.1:${port}${path}`);
      expect(answer.headers['x-frame-options']).toBe('deny');
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
    }
  });
});

describe('basicAuth', () => {
  async function authServer(): Promise<{ port: number; logs: () => string[] }> {
    const web = await loadWebConfig(await writeWeb('auth.yml', `basic_auth_users:\n  prometheus: ${passwordHash}\n`));
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    const port = await serve(web, createLogger('info', 'json', out));
    return { port, logs: () => text.split('\n').filter((line) => line !== '') };
  }

  it('answers 401 with a challenge without credentials, and logs nothing', async () => {
    const { port, logs } = await authServer();
    const answer = await request(`http://127.0.0.1:${port}/metrics`);
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe('Basic realm="egress-exporter"');
    expect(logs()).toEqual([]);
  });

  it('answers 401 to a wrong password and logs one line without it', async () => {
    const { port, logs } = await authServer();
    const answer = await request(`http://127.0.0.1:${port}/metrics?x=1`, { headers: basic('prometheus', 'wrong-password-42') });
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe('Basic realm="egress-exporter"');
    const lines = logs();
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('wrong-password-42');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', user: 'prometheus', path: '/metrics', remote: '127.0.0.1' });
  });

  it('answers 401 to an unknown user, and logs it', async () => {
    const { port, logs } = await authServer();
    const answer = await request(`http://127.0.0.1:${port}/metrics`, { headers: basic('mallory', PASSWORD) });
    expect(answer.status).toBe(401);
    expect(logs()).toHaveLength(1);
    expect(logs()[0]).not.toContain(PASSWORD);
    expect(JSON.parse(logs()[0]!)).toMatchObject({ user: 'mallory', path: '/metrics' });
  });

  it('serves the right credentials, again and again (cached), and still refuses a wrong password after', async () => {
    const { port, logs } = await authServer();
    for (let i = 0; i < 3; i++) {
      expect(await request(`http://127.0.0.1:${port}/metrics`, { headers: basic('prometheus', PASSWORD) })).toMatchObject({ status: 200, body: 'egress_up 1\n' });
    }
    expect((await request(`http://127.0.0.1:${port}/metrics`, { headers: basic('prometheus', `${PASSWORD}!`) })).status).toBe(401);
    expect(logs()).toHaveLength(1);
  });

  it('lets /-/healthy through without credentials', async () => {
    const { port } = await authServer();
    expect(await request(`http://127.0.0.1:${port}/-/healthy`)).toMatchObject({ status: 200, body: 'Healthy\n' });
  });

  it('lets everything through when no users are configured', async () => {
    const port = await serve(null);
    expect((await request(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
  });
});
