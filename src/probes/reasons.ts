// The fixed set of failure reasons. Only these strings ever become the
// `reason` label, so its cardinality is bounded by this list.
import { errorCode } from './errors.js';

export const FAILURE_REASONS = [
  // DNS
  'nxdomain',
  'nodata',
  'servfail',
  'refused',
  'timeout',
  'sinkholed',
  'dns_error',
  // TCP
  'reset',
  'unreachable',
  'no_addresses',
  // TLS / HTTP (later checks)
  'tls_handshake_failed',
  'tls_cert_invalid',
  'tls_intercepted',
  'http_bad_response',
  'http2_downgraded',
  // proxy paths
  'proxy_refused',
  'proxy_timeout',
  'proxy_auth_required',
  'proxy_denied',
  'proxy_bad_gateway',
  'proxy_closed',
  'proxy_protocol_error',
  // registry pull path (the registry check's steps)
  'registry_auth_failed',
  'registry_credentials_expired',
  'registry_credentials_unusable',
  'registry_not_found',
  'registry_redirect_loop',
  // a bug caught at the edge of the scheduler; should never be seen
  'internal_error',
] as const;

export type FailureReason = (typeof FAILURE_REASONS)[number];

export function isFailureReason(value: string): value is FailureReason {
  return (FAILURE_REASONS as readonly string[]).includes(value);
}

/**
 * Maps a Node socket error to a reason. Unknown codes count as `unreachable`
 * rather than leaking the code into a label.
 */
export function socketErrorReason(err: unknown): FailureReason {
  switch (errorCode(err)) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ETIMEDOUT':
    case 'ABORT_ERR':
    case 'ERR_DEADLINE':
      return 'timeout';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return 'reset';
    default:
      return 'unreachable';
  }
}

// Named groups of reasons, for the alerts and dashboards that tell faults apart.

/** The dns check got no usable answer for the name (`sinkholed` is an answer, of the wrong kind). */
export const DNS_UNRESOLVED_REASONS = ['nxdomain', 'nodata', 'servfail', 'refused', 'timeout', 'unreachable', 'dns_error'] as const satisfies readonly FailureReason[];

/** The host itself refused or never answered a connection (what socketErrorReason returns). */
export const CONNECT_FAILURE_REASONS = ['refused', 'timeout', 'reset', 'unreachable'] as const satisfies readonly FailureReason[];

/** The proxy refuses the host by its policy (403) or wants credentials (407). */
export const PROXY_DENIED_REASONS = ['proxy_denied', 'proxy_auth_required'] as const satisfies readonly FailureReason[];

/** The proxy itself is down, stalls, answers other than HTTP, or breaks the tunnel (not proxy_bad_gateway: there the proxy works and says it cannot reach the host). */
export const PROXY_FAILING_REASONS = ['proxy_refused', 'proxy_timeout', 'proxy_closed', 'proxy_protocol_error'] as const satisfies readonly FailureReason[];

/** The proxy works and says it could not reach or resolve the host: the host is out of reach through it. */
export const PROXY_UPSTREAM_REASONS = ['proxy_bad_gateway'] as const satisfies readonly FailureReason[];
