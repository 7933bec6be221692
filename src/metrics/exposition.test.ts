import { describe, expect, it } from 'vitest';
import { HistogramData, labelText, sampleLine } from './exposition.js';

describe('the text exposition', () => {
  it('escapes backslash, newline and double quote in label values, and leaves other values as they are', () => {
    expect(labelText({ host: 'cgr.dev', path: 'corp' })).toBe('{host="cgr.dev",path="corp"}');
    expect(labelText({ issuer: 'CN=a\\b "c"\nd' })).toBe('{issuer="CN=a\\\\b \\"c\\"\\nd"}');
    expect(labelText({ issuer: 'O=Ünïcode, CN=x' })).toBe('{issuer="O=Ünïcode, CN=x"}');
    expect(labelText({})).toBe('');
  });

  it('writes a sample line as Prometheus reads it', () => {
    expect(sampleLine('egress_probe_success', { host: 'cgr.dev', check: 'dns' }, 1)).toBe('egress_probe_success{host="cgr.dev",check="dns"} 1\n');
    expect(sampleLine('egress_x', {}, Number.NaN)).toBe('egress_x NaN\n');
    expect(sampleLine('egress_x', { a: '"' }, Infinity)).toBe('egress_x{a="\\""} +Inf\n');
  });

  it('writes a histogram with cumulative buckets, +Inf, sum and count', () => {
    const h = new HistogramData([0.1, 1]);
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    expect(h.lines('egress_h', { host: 'a\\b' })).toBe(
      'egress_h_bucket{host="a\\\\b",le="0.1"} 1\negress_h_bucket{host="a\\\\b",le="1"} 2\negress_h_bucket{host="a\\\\b",le="+Inf"} 3\n' +
        'egress_h_sum{host="a\\\\b"} 5.55\negress_h_count{host="a\\\\b"} 3\n',
    );
  });
});
