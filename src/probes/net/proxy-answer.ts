// What a proxy's own error answer means, read from everything the proxy says: its status,
// squid's X-Squid-Error, RFC 9209's Proxy-Status and the reason phrase. The same reading
// serves an answer to CONNECT (proxy.ts) and an error page a TLS-inspecting proxy shows
// inside a tunnel it bumped (the http and registry checks).
//
//   407                                                       proxy_auth_required
//   403, or the proxy says it denied the request              proxy_denied
//   502, 503, 504                                             proxy_bad_gateway
//   500 where the proxy says it could not reach or resolve
//   the host (X-Squid-Error ERR_CANNOT_FORWARD, ERR_DNS_FAIL,
//   ERR_CONNECT_FAIL...; Proxy-Status error=dns_error,
//   destination_unavailable, connection_refused...; a phrase
//   such as tinyproxy's "Unable to connect")                  proxy_bad_gateway
//   anything else                                             proxy_protocol_error
import type { FailureReason } from '../reasons.js';

/** squid's errors for an origin it could not resolve, reach or read. */
const SQUID_UPSTREAM = new Set(['ERR_CANNOT_FORWARD', 'ERR_DNS_FAIL', 'ERR_CONNECT_FAIL', 'ERR_READ_TIMEOUT', 'ERR_READ_ERROR', 'ERR_WRITE_ERROR', 'ERR_GATEWAY_FAILURE', 'ERR_ZERO_SIZE_OBJECT', 'ERR_LIFETIME_EXP']);
/** RFC 9209 error types about the next hop: name resolution, the destination, the connection to it. */
const PROXY_STATUS_UPSTREAM = /^(dns_|destination_(not_found|unavailable|ip_unroutable)|connection_(refused|terminated|timeout|read_timeout|write_timeout)|tls_)/;
const SQUID_DENIED = new Set(['ERR_ACCESS_DENIED', 'ERR_FORWARDING_DENIED', 'ERR_CACHE_ACCESS_DENIED']);
/** What proxies put in the reason phrase of a 500 when the origin is out of reach (tinyproxy: "Unable to connect"). */
const UPSTREAM_PHRASE = /unable to connect|(could ?n[o']?t|cannot|can'?t) (connect|resolve|reach)|connection (refused|timed out)|unknown host|host not found|name resolution|no such host/i;

export interface ProxyWords {
  reason: FailureReason;
  /** Its error headers, bounded, for the detail (X-Squid-Error, Proxy-Status); '' when it sent none. */
  evidence: string;
}

/** The proxy's own words: squid's error name and RFC 9209's error type, when it sent them. */
function errorNames(headers: Readonly<Record<string, string>>): { squid?: string; proxyStatus?: string; evidence: string[] } {
  const evidence: string[] = [];
  const out: { squid?: string; proxyStatus?: string; evidence: string[] } = { evidence };
  const squid = headers['x-squid-error']?.trim();
  if (squid !== undefined && squid !== '') {
    out.squid = squid.split(/\s/)[0] ?? '';
    evidence.push(`X-Squid-Error: ${squid.slice(0, 80)}`);
  }
  const status = headers['proxy-status'];
  const type = status === undefined ? undefined : /;\s*error\s*=\s*"?([a-z0-9_]+)/i.exec(status)?.[1];
  if (status !== undefined && type !== undefined) {
    out.proxyStatus = type.toLowerCase();
    evidence.push(`Proxy-Status: ${status.slice(0, 80)}`);
  }
  return out;
}

/** A status of 400 or more from a proxy, read with what it said. */
export function readProxyAnswer(status: number, reasonPhrase: string, headers: Readonly<Record<string, string>>): ProxyWords {
  const names = errorNames(headers);
  const phrase = reasonPhrase.trim();
  const evidence = names.evidence.join(', ');
  if (status === 407) return { reason: 'proxy_auth_required', evidence };
  if (status === 403 || (names.squid !== undefined && SQUID_DENIED.has(names.squid)) || names.proxyStatus === 'http_request_denied') return { reason: 'proxy_denied', evidence };
  if (status === 502 || status === 503 || status === 504) return { reason: 'proxy_bad_gateway', evidence };
  const upstream =
    (names.squid !== undefined && SQUID_UPSTREAM.has(names.squid)) || (names.proxyStatus !== undefined && PROXY_STATUS_UPSTREAM.test(names.proxyStatus)) || UPSTREAM_PHRASE.test(phrase);
  if (status === 500 && upstream) return { reason: 'proxy_bad_gateway', evidence };
  return { reason: 'proxy_protocol_error', evidence };
}

/** Whether an answer carries the proxy's own error markers (an error page of the proxy, not of the host). */
export function saysProxy(headers: Readonly<Record<string, string>>): boolean {
  return errorNames(headers).evidence.length > 0;
}
