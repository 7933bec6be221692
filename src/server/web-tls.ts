// The TLS side of the web config: the files tls_server_config names (the
// certificate, its key, the CA of client certificates), read and checked before
// anything is served, and the options of Node's TLS server made from them.
// web-config.ts reads the settings; web-server.ts serves with the options.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type https from 'node:https';
import { resolve } from 'node:path';
import tls from 'node:tls';
import type { Path, Problems } from '../config/reader.js';
import { describeFsError } from '../config/yaml-file.js';

export const TLS_VERSIONS = ['TLS10', 'TLS11', 'TLS12', 'TLS13'] as const;
export type TlsVersionName = (typeof TLS_VERSIONS)[number];

/** Node's names for the exporter-toolkit's versions. */
const NODE_TLS_VERSIONS: Record<TlsVersionName, tls.SecureVersion> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

export const CLIENT_AUTH_TYPES = ['NoClientCert', 'RequireAndVerifyClientCert'] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

/** What tls_server_config says, defaults applied; paths as written. */
export interface TlsSettings {
  certFile: string;
  keyFile: string;
  minVersion: TlsVersionName;
  maxVersion: TlsVersionName;
  clientAuthType: ClientAuthType;
  clientCaFile: string | null;
  preferServerCipherSuites: boolean;
}

/** The settings with absolute paths (relative ones are resolved against the web config file's directory), and the files' text. */
export interface WebTlsConfig extends TlsSettings {
  /** PEM text read from the files: the certificate (and chain) and the private key. */
  cert: string;
  key: string;
  /** PEM text of client_ca_file. */
  clientCa: string | null;
}

const SECTION = 'tls_server_config';

async function readPem(path: Path, file: string, problems: Problems): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    problems.add(path, `cannot read ${JSON.stringify(file)}: ${describeFsError(err)}`);
    return undefined;
  }
}

function firstCertificate(pem: string, path: Path, file: string, problems: Problems): X509Certificate | undefined {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    problems.add(path, `expected PEM certificates (-----BEGIN CERTIFICATE-----), got none in ${JSON.stringify(file)}`);
    return undefined;
  }
  try {
    return new X509Certificate(pem);
  } catch (err) {
    problems.add(path, `cannot parse the certificate in ${JSON.stringify(file)}: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

function privateKey(pem: string, path: Path, file: string, problems: Problems): KeyObject | undefined {
  if (pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /Proc-Type: 4,ENCRYPTED/.test(pem)) {
    problems.add(path, `the private key in ${JSON.stringify(file)} is encrypted: egress-exporter needs it unencrypted`);
    return undefined;
  }
  if (!/-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/.test(pem)) {
    problems.add(path, `expected a PEM private key (-----BEGIN PRIVATE KEY-----), got none in ${JSON.stringify(file)}`);
    return undefined;
  }
  try {
    return createPrivateKey(pem);
  } catch (err) {
    problems.add(path, `cannot parse the private key in ${JSON.stringify(file)}: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

/** The options of `https.createServer` (and `server.setSecureContext`) for a TLS config. */
export function tlsServerOptions(config: WebTlsConfig): https.ServerOptions {
  const verifyClients = config.clientAuthType === 'RequireAndVerifyClientCert';
  return {
    cert: config.cert,
    key: config.key,
    minVersion: NODE_TLS_VERSIONS[config.minVersion],
    maxVersion: NODE_TLS_VERSIONS[config.maxVersion],
    honorCipherOrder: config.preferServerCipherSuites,
    requestCert: verifyClients,
    rejectUnauthorized: verifyClients,
    ...(verifyClients && config.clientCa !== null ? { ca: config.clientCa } : {}),
  };
}

/**
 * Reads the files `settings` names, relative to `base`: each must be readable,
 * the certificate and key PEM, the key the certificate's, and the whole
 * accepted by Node's TLS. undefined after adding the problems otherwise.
 */
export async function loadTlsFiles(settings: TlsSettings, base: string, problems: Problems): Promise<WebTlsConfig | undefined> {
  const certFile = resolve(base, settings.certFile);
  const keyFile = resolve(base, settings.keyFile);
  const clientCaFile = settings.clientCaFile === null ? null : resolve(base, settings.clientCaFile);
  const before = problems.count;

  const certPem = await readPem([SECTION, 'cert_file'], certFile, problems);
  const cert = certPem === undefined ? undefined : firstCertificate(certPem, [SECTION, 'cert_file'], certFile, problems);
  const keyPem = await readPem([SECTION, 'key_file'], keyFile, problems);
  const key = keyPem === undefined ? undefined : privateKey(keyPem, [SECTION, 'key_file'], keyFile, problems);
  if (cert !== undefined && key !== undefined && !cert.checkPrivateKey(key)) {
    problems.add([SECTION, 'key_file'], `the private key in ${JSON.stringify(keyFile)} does not match the certificate in ${JSON.stringify(certFile)}`);
  }
  let clientCa: string | null = null;
  if (clientCaFile !== null) {
    const pem = await readPem([SECTION, 'client_ca_file'], clientCaFile, problems);
    if (pem !== undefined && firstCertificate(pem, [SECTION, 'client_ca_file'], clientCaFile, problems) !== undefined) clientCa = pem;
  }
  if (problems.count > before || certPem === undefined || keyPem === undefined) return undefined;

  const config: WebTlsConfig = { ...settings, certFile, keyFile, clientCaFile, cert: certPem, key: keyPem, clientCa };
  // Whatever else Node's TLS refuses (a chain it cannot use, a version its
  // OpenSSL lacks) shows now rather than at the first connection.
  try {
    tls.createSecureContext(tlsServerOptions(config));
  } catch (err) {
    problems.add([SECTION], err instanceof Error ? err.message : String(err));
    return undefined;
  }
  return config;
}
