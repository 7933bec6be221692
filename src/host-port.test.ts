import { describe, expect, it } from 'vitest';
import { hostPort } from './host-port.js';

describe('hostPort', () => {
  it('brackets IPv6 addresses only', () => {
    expect(hostPort('::1', 29443)).toBe('[::1]:29443');
    expect(hostPort('2001:db8::1', 443)).toBe('[2001:db8::1]:443');
    expect(hostPort('127.0.0.1', 443)).toBe('127.0.0.1:443');
    expect(hostPort('cgr.dev', 443)).toBe('cgr.dev:443');
  });
});
