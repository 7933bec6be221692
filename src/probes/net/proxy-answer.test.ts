import { describe, expect, it } from 'vitest';
import { readProxyAnswer } from './proxy-answer.js';

describe('what a proxy says when it will not tunnel', () => {
  it('reads a 500 that says the host could not be reached or resolved as the origin being out of reach, not a broken proxy', () => {
    // tinyproxy 1.11 to an unresolvable or refused host.
    expect(readProxyAnswer(500, 'Unable to connect', {})).toEqual({ reason: 'proxy_bad_gateway', evidence: '' });
    // squid 5.7 to a name it cannot resolve.
    expect(readProxyAnswer(500, 'Internal Server Error', { 'x-squid-error': 'ERR_CANNOT_FORWARD 0' })).toEqual({ reason: 'proxy_bad_gateway', evidence: 'X-Squid-Error: ERR_CANNOT_FORWARD 0' });
    expect(readProxyAnswer(500, '', { 'x-squid-error': 'ERR_DNS_FAIL 0' }).reason).toBe('proxy_bad_gateway');
    expect(readProxyAnswer(500, '', { 'proxy-status': 'corp; error=dns_error; rcode=NXDOMAIN' })).toEqual({ reason: 'proxy_bad_gateway', evidence: 'Proxy-Status: corp; error=dns_error; rcode=NXDOMAIN' });
    expect(readProxyAnswer(500, '', { 'proxy-status': 'corp; error="connection_refused"' }).reason).toBe('proxy_bad_gateway');
  });

  it('keeps a 500 that says nothing of the origin as the proxy failing, and reads the other statuses as before', () => {
    expect(readProxyAnswer(500, 'Internal Server Error', {}).reason).toBe('proxy_protocol_error');
    expect(readProxyAnswer(500, '', { 'proxy-status': 'corp; error=proxy_internal_error' }).reason).toBe('proxy_protocol_error');
    expect(readProxyAnswer(503, 'Service Unavailable', { 'x-squid-error': 'ERR_CONNECT_FAIL 111' }).reason).toBe('proxy_bad_gateway');
    expect(readProxyAnswer(502, 'Bad Gateway', {}).reason).toBe('proxy_bad_gateway');
    expect(readProxyAnswer(407, 'Proxy Authentication Required', {}).reason).toBe('proxy_auth_required');
    expect(readProxyAnswer(403, 'Forbidden', { 'x-squid-error': 'ERR_ACCESS_DENIED 0' }).reason).toBe('proxy_denied');
    expect(readProxyAnswer(400, 'Bad Request', { 'x-squid-error': 'ERR_INVALID_REQ 0' }).reason).toBe('proxy_protocol_error');
    // A denial whatever the status, when the proxy says so.
    expect(readProxyAnswer(500, '', { 'proxy-status': 'corp; error=http_request_denied' }).reason).toBe('proxy_denied');
  });
});
