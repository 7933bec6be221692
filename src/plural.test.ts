import { describe, expect, it } from 'vitest';
import { agree, counted } from './plural.js';

describe('counts in words', () => {
  it('agree with their number', () => {
    expect(counted(1, 'target')).toBe('1 target');
    expect(counted(0, 'target')).toBe('0 targets');
    expect(counted(2, 'address', 'addresses')).toBe('2 addresses');
    expect(`1 ${agree(1, 'meets', 'meet')}, 2 ${agree(2, 'does', 'do')} not`).toBe('1 meets, 2 do not');
  });
});
