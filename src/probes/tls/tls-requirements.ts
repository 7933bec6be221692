// The TLS requirements a path is checked against, as data: for each one, the exact
// client constraints of its handshake(s) and what a successful handshake must show.
//
// Source: Chainguard's "Minimum TLS requirements" and its test command
//   openssl s_client -cipher @SECLEVEL=2:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384 \
//     -ciphersuites TLS_AES_256_GCM_SHA384 -groups P-256 -alpn h2 -connect cgr.dev:443 < /dev/null
//
// Each constraint set maps one to one onto `openssl s_client` flags (see the comment
// on each handshake), so the verdicts can be compared with openssl's. Where a flag is
// absent, the client uses OpenSSL's own default (cipher list "DEFAULT", default groups
// and signature algorithms), exactly as `openssl s_client` would.
//
// Every option set is turned into a SecureContext once, when this module loads: a bad
// constant throws here (Node validates ciphers, groups, sigalgs and versions
// synchronously), so it is a bug found by the tests, never a runtime failure.
import { createSecureContext } from 'node:tls';
import type { SecureContext, SecureVersion } from 'node:tls';

import { TLS_REQUIREMENTS } from '../../model/tls-requirements.js';
import type { TlsRequirement } from '../../model/tls-requirements.js';

export { TLS_REQUIREMENTS };
export type { TlsRequirement };

/** What the client offers. Absent fields: OpenSSL's defaults. */
export interface ClientConstraints {
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  /** TLS <= 1.2 cipher list (openssl -cipher). Default: OpenSSL's "DEFAULT". */
  cipherList?: string;
  /** TLS 1.3 suites (openssl -ciphersuites). Default: OpenSSL's three. */
  cipherSuites?: string;
  /** Key exchange groups (openssl -groups), e.g. "P-256". */
  groups?: string;
  /** Signature schemes offered (openssl -sigalgs). */
  sigalgs?: string;
  /** ALPN protocols offered (openssl -alpn), in preference order. */
  alpn?: readonly string[];
}

/** What a successful handshake must show to meet the requirement. */
export interface HandshakeExpectation {
  version?: 'TLSv1.2' | 'TLSv1.3';
  /** IANA cipher suite name (Node's getCipher().standardName). */
  cipher?: string;
  /** Normalised key exchange group (see tls-wire groupName). */
  group?: string;
  /** Selected ALPN protocol. */
  alpn?: string;
  /** EMS (ServerHello extension 23): 'always' = must be present (the handshake is TLS 1.2);
   *  'if_tls12' = must be present when the handshake landed on TLS 1.2. */
  ems?: 'always' | 'if_tls12';
  /** TLS 1.2 ServerKeyExchange signature scheme, checked when visible on the wire. */
  signatureScheme?: number;
}

export interface HandshakeSpec {
  /** Unique id, e.g. "group_p256/tls12". */
  id: string;
  constraints: ClientConstraints;
  expect: HandshakeExpectation;
}

export interface RequirementSpec {
  requirement: TlsRequirement;
  title: string;
  /** Met only when every handshake is met. */
  handshakes: readonly HandshakeSpec[];
}

const VENDOR_CIPHER_LIST = '@SECLEVEL=2:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384';

export const REQUIREMENT_SPECS: readonly RequirementSpec[] = [
  {
    requirement: 'tls13_aes_256_gcm_sha384',
    title: 'TLSv1.3 with TLS_AES_256_GCM_SHA384',
    // openssl s_client -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384
    handshakes: [
      {
        id: 'tls13_aes_256_gcm_sha384',
        constraints: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', cipherSuites: 'TLS_AES_256_GCM_SHA384' },
        expect: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
      },
    ],
  },
  {
    requirement: 'tls12_ecdhe_ecdsa_aes_256_gcm_sha384',
    title: 'TLSv1.2 with ECDHE-ECDSA-AES256-GCM-SHA384',
    // openssl s_client -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384
    handshakes: [
      {
        id: 'tls12_ecdhe_ecdsa_aes_256_gcm_sha384',
        constraints: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', cipherList: 'ECDHE-ECDSA-AES256-GCM-SHA384' },
        expect: { version: 'TLSv1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384' },
      },
    ],
  },
  {
    requirement: 'extended_master_secret',
    title: 'RFC 7627 Extended Master Secret on TLSv1.2',
    // openssl s_client -tls1_2   (then "Extended master secret: yes")
    handshakes: [
      {
        id: 'extended_master_secret',
        constraints: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' },
        expect: { version: 'TLSv1.2', ems: 'always' },
      },
    ],
  },
  {
    requirement: 'group_p256',
    title: 'P-256 key exchange on TLSv1.3 and on TLSv1.2',
    handshakes: [
      {
        // openssl s_client -tls1_3 -groups P-256
        id: 'group_p256/tls13',
        constraints: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', groups: 'P-256' },
        expect: { version: 'TLSv1.3', group: 'P-256' },
      },
      {
        // openssl s_client -tls1_2 -groups P-256 -cipher 'ECDHE:!aNULL:!eNULL'
        // Only ECDHE suites: without that restriction a TLS 1.2 server without P-256
        // falls back to RSA key exchange and the handshake "succeeds" with no P-256 at all.
        id: 'group_p256/tls12',
        constraints: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', groups: 'P-256', cipherList: 'ECDHE:!aNULL:!eNULL' },
        expect: { version: 'TLSv1.2', group: 'P-256' },
      },
    ],
  },
  {
    requirement: 'sig_ecdsa_secp256r1_sha256',
    title: 'Signatures using P-256 with SHA-256',
    // openssl s_client -sigalgs ecdsa_secp256r1_sha256
    handshakes: [
      {
        id: 'sig_ecdsa_secp256r1_sha256',
        constraints: { sigalgs: 'ecdsa_secp256r1_sha256' },
        expect: { signatureScheme: 0x0403 },
      },
    ],
  },
  {
    requirement: 'sig_rsa_pss_rsae_sha256',
    title: 'Signatures using RSA-PSS with SHA-256',
    // openssl s_client -sigalgs rsa_pss_rsae_sha256
    handshakes: [
      {
        id: 'sig_rsa_pss_rsae_sha256',
        constraints: { sigalgs: 'rsa_pss_rsae_sha256' },
        expect: { signatureScheme: 0x0804 },
      },
    ],
  },
  {
    requirement: 'alpn_h2',
    title: 'HTTP/2 (ALPN h2) selected when h2 and http/1.1 are offered',
    // openssl s_client -alpn h2,http/1.1   (then "ALPN protocol: h2")
    handshakes: [
      {
        id: 'alpn_h2',
        constraints: { alpn: ['h2', 'http/1.1'] },
        expect: { alpn: 'h2' },
      },
    ],
  },
  {
    requirement: 'baseline',
    title: "The vendor's openssl s_client command",
    // openssl s_client -cipher @SECLEVEL=2:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384
    //   -ciphersuites TLS_AES_256_GCM_SHA384 -groups P-256 -alpn h2
    // judged as the vendor does: handshake OK, ALPN h2, and EMS when it landed on TLS 1.2.
    handshakes: [
      {
        id: 'baseline',
        constraints: {
          cipherList: VENDOR_CIPHER_LIST,
          cipherSuites: 'TLS_AES_256_GCM_SHA384',
          groups: 'P-256',
          alpn: ['h2'],
        },
        expect: { alpn: 'h2', ems: 'if_tls12' },
      },
    ],
  },
];

/** The `ciphers` string for node:tls: Node sends `TLS_*` names to the 1.3 list, the rest to the 1.2 list. */
export function nodeCiphers(c: ClientConstraints): string {
  const list = c.cipherList ?? 'DEFAULT';
  return c.cipherSuites === undefined ? list : `${list}:${c.cipherSuites}`;
}

/** Throws when a constraint set is malformed or self-contradictory. Returns the context. */
export function buildClientContext(c: ClientConstraints): SecureContext {
  if (c.cipherList?.split(':').some((name) => name.startsWith('TLS_'))) {
    throw new Error(`cipherList must not contain TLS 1.3 suites: ${c.cipherList}`);
  }
  if (c.cipherSuites?.split(':').some((name) => !name.startsWith('TLS_'))) {
    throw new Error(`cipherSuites must only contain TLS 1.3 suites: ${c.cipherSuites}`);
  }
  for (const proto of c.alpn ?? []) {
    if (proto.length === 0 || Buffer.byteLength(proto) > 255 || !/^[\x21-\x7e]+$/.test(proto)) {
      throw new Error(`invalid ALPN protocol ${JSON.stringify(proto)}`);
    }
  }
  const allows13 = (c.maxVersion ?? 'TLSv1.3') === 'TLSv1.3';
  const allows12 = (c.minVersion ?? 'TLSv1.2') !== 'TLSv1.3';
  if (!allows12 && c.cipherList !== undefined) {
    throw new Error('a TLS 1.3-only handshake cannot constrain the TLS 1.2 cipher list');
  }
  if (!allows13 && c.cipherSuites !== undefined) {
    throw new Error('a TLS 1.2-only handshake cannot constrain the TLS 1.3 suites');
  }
  return createSecureContext({
    ...(c.minVersion !== undefined && { minVersion: c.minVersion }),
    ...(c.maxVersion !== undefined && { maxVersion: c.maxVersion }),
    ciphers: nodeCiphers(c),
    ...(c.groups !== undefined && { ecdhCurve: c.groups }),
    ...(c.sigalgs !== undefined && { sigalgs: c.sigalgs }),
  });
}

export interface PreparedHandshake {
  spec: HandshakeSpec;
  /** Shared by every probe: a client context never resumes a session unless given one. */
  context: SecureContext;
}

function prepare(): ReadonlyMap<string, PreparedHandshake> {
  const out = new Map<string, PreparedHandshake>();
  const seen = new Set<TlsRequirement>();
  for (const req of REQUIREMENT_SPECS) {
    if (seen.has(req.requirement)) throw new Error(`duplicate requirement ${req.requirement}`);
    seen.add(req.requirement);
    if (req.handshakes.length === 0) throw new Error(`requirement ${req.requirement} has no handshake`);
    for (const spec of req.handshakes) {
      if (out.has(spec.id)) throw new Error(`duplicate handshake id ${spec.id}`);
      try {
        out.set(spec.id, { spec, context: buildClientContext(spec.constraints) });
      } catch (err) {
        throw new Error(`TLS requirement ${req.requirement} (${spec.id}): bad client constraints: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      }
    }
  }
  for (const name of TLS_REQUIREMENTS) if (!seen.has(name)) throw new Error(`requirement ${name} has no spec`);
  return out;
}

/** Every handshake, validated and with its SecureContext, built when the module loads. */
export const PREPARED_HANDSHAKES: ReadonlyMap<string, PreparedHandshake> = prepare();
