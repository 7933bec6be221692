// The HTTP(S) server and the web config in force, which SIGHUP and /-/reload
// read again, as exporter-toolkit reads its file anew: rotated certificate
// files (cert-manager's) serve the next handshakes, changed users and headers
// the next requests. A new web config that does not load changes nothing.
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type express from 'express';
import type { Logger } from '../logging/logger.js';
import { basicAuth } from './basic-auth.js';
import { PasswordChecker } from './password-check.js';
import { loadWebConfig, WebConfigError } from './web-config.js';
import { tlsServerOptions } from './web-tls.js';
import type { WebConfig } from './web-config.js';

const NO_USERS: ReadonlyMap<string, string> = new Map();

export class WebServer {
  private current: WebConfig | null;
  private server: http.Server | https.Server | undefined;
  private readonly passwords: PasswordChecker;

  constructor(
    web: WebConfig | null,
    private readonly logger: Logger,
  ) {
    this.current = web;
    this.passwords = new PasswordChecker(undefined, (error) => logger.error({ err: error }, 'bcrypt worker failed: this is a bug'));
  }

  /** The web config in force. */
  get config(): WebConfig | null {
    return this.current;
  }

  /** Basic auth with the users in force, on every path but `exempt`. */
  auth(exempt: readonly string[]): express.RequestHandler {
    return basicAuth(this.logger, { exempt, users: () => this.current?.basicAuthUsers ?? NO_USERS, passwords: this.passwords });
  }

  /**
   * The server for `app`: HTTPS with the web config's TLS settings, or plain
   * HTTP. The configured headers are set on every response, 401s included.
   * The caller listens; a TLS handshake failure never reaches `app`.
   */
  createServer(app: http.RequestListener): http.Server | https.Server {
    const handler: http.RequestListener = (req, res) => {
      for (const [name, value] of Object.entries(this.current?.headers ?? {})) res.setHeader(name, value);
      app(req, res);
    };
    const tls = this.current?.tls;
    this.server = tls == null ? http.createServer(handler) : https.createServer(tlsServerOptions(tls), handler);
    return this.server;
  }

  /**
   * Reads the web config file again, with the files it names. Resolves to the
   * function that puts it in force; throws a WebConfigError listing the
   * problems otherwise, and the running web config stays. Without a web
   * config file there is nothing to read: the function does nothing.
   */
  async prepareReload(): Promise<() => void> {
    const old = this.current;
    if (old === null) return () => {};
    const next = await loadWebConfig(old.file);
    // The server was made HTTP or HTTPS, with or without client certificates: those need a new one.
    const restart = (what: string): WebConfigError =>
      new WebConfigError([`${old.file}: tls_server_config: ${what} needs a restart; the running web config stays`]);
    if ((old.tls === null) !== (next.tls === null)) throw restart(`turning TLS ${next.tls === null ? 'off' : 'on'}`);
    if (old.tls !== null && next.tls !== null && old.tls.clientAuthType !== next.tls.clientAuthType) throw restart('changing client_auth_type');
    return () => {
      this.current = next;
      if (next.tls !== null && this.server instanceof https.Server) this.server.setSecureContext(tlsServerOptions(next.tls));
      const cert = next.tls === null ? undefined : new X509Certificate(next.tls.cert);
      this.logger.info(
        { file: next.file, users: next.basicAuthUsers.size, ...(cert ? { cert_subject: cert.subject.replace(/\n/g, ', '), cert_not_after: new Date(cert.validTo).toISOString() } : {}) },
        'web config reloaded',
      );
    };
  }

  /** Stops the bcrypt worker. The caller closes the server. */
  close(): Promise<void> {
    return this.passwords.close();
  }
}
