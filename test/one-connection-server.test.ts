// A server that serves one connection at a time (`openssl s_server -www`): the
// tls check's handshakes and the http request take turns, so every requirement
// gets a verdict instead of timing out behind the request.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TLS_REQUIREMENTS } from '../src/probes/tls/tls.js';
import { getPki } from './fixtures/pki.js';
import { closedPort } from './fixtures/tcp-peers.js';
import { startTestExporter, tempDir, writeTestCa } from './helpers/exporter.js';
import type { TestExporter } from './helpers/exporter.js';
import type { Scrape } from './helpers/scrape.js';

function listening(port: number, deadlineMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const until = Date.now() + deadlineMs;
    const attempt = () => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > until) reject(new Error(`openssl s_server did not listen on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

describe('a server that serves one connection at a time', () => {
  let server: ChildProcess;
  let port: number;
  let exporter: TestExporter;
  let m: Scrape;

  beforeAll(async () => {
    const dir = await tempDir('egress-sserver-');
    await writeTestCa(dir);
    const pki = await getPki();
    await writeFile(join(dir, 'key.pem'), pki.ecdsa.key);
    await writeFile(join(dir, 'leaf.pem'), pki.ecdsa.cert);
    await writeFile(join(dir, 'intermediate.pem'), pki.intermediateCa);
    port = await closedPort('127.0.0.1');
    server = spawn('openssl', ['s_server', '-www', '-quiet', '-accept', `127.0.0.1:${port}`, '-key', 'key.pem', '-cert', 'leaf.pem', '-cert_chain', 'intermediate.pem'], { cwd: dir, stdio: 'ignore' });
    await listening(port, 10_000);
    exporter = await startTestExporter(
      `catalog: none
interval: 30s
timeout: 10s
proxy: none
tls: { ca_file: ca.pem, requirements: [tls13_aes_256_gcm_sha384, tls12_ecdhe_ecdsa_aes_256_gcm_sha384, extended_master_secret, group_p256, sig_ecdsa_secp256r1_sha256, sig_rsa_pss_rsae_sha256, alpn_h2, baseline] }
targets:
  - { host: 127.0.0.1, port: ${port}, checks: [tcp, tls, http] }
`,
      { dir },
    );
    m = await exporter.scrape();
  }, 60_000);

  afterAll(async () => {
    await exporter?.stop();
    server?.kill();
  });

  it('judges every requirement (none untested), and gets an HTTP answer too', () => {
    const at = { host: '127.0.0.1', port: String(port), path: 'direct' };
    for (const requirement of TLS_REQUIREMENTS) {
      expect(m.find('egress_tls_requirement_met', { ...at, requirement }), requirement).toHaveLength(1);
    }
    // No ALPN on s_server: h2 is the one thing it lacks.
    expect(m.value('egress_tls_requirement_met', { ...at, requirement: 'alpn_h2' })).toBe(0);
    expect(m.value('egress_tls_requirement_met', { ...at, requirement: 'tls13_aes_256_gcm_sha384' })).toBe(1);
    expect(m.value('egress_probe_failure_reason', { ...at, check: 'tls', reason: 'tls_handshake_failed' })).toBe(1);
    expect(m.value('egress_http_status_code', at)).toBe(200);
  });
});
