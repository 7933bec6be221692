// The TLS requirements the exporter can check, by name: a vendor's catalog lists the
// ones its page asks for, and the config the ones for its own targets. What each one
// offers and expects is in src/probes/tls/tls-requirements.ts.

export const TLS_REQUIREMENTS = [
  'tls13_aes_256_gcm_sha384',
  'tls12_ecdhe_ecdsa_aes_256_gcm_sha384',
  'extended_master_secret',
  'group_p256',
  'sig_ecdsa_secp256r1_sha256',
  'sig_rsa_pss_rsae_sha256',
  'alpn_h2',
  'baseline',
] as const;

export type TlsRequirement = (typeof TLS_REQUIREMENTS)[number];
