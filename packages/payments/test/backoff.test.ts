import { describe, expect, it } from 'vitest';
import { fullJitterDelay } from '../src/backoff';

describe('fullJitterDelay', () => {
  const policy = { baseMs: 10, maxMs: 250 };
  it('is uniform in [0, min(max, base * 2^n))', () => {
    expect(fullJitterDelay(policy, 0, () => 0)).toBe(0);
    expect(fullJitterDelay(policy, 0, () => 0.999)).toBe(9);
    expect(fullJitterDelay(policy, 3, () => 0.5)).toBe(40);
    expect(fullJitterDelay(policy, 10, () => 0.999)).toBe(249);
  });
  it('never overflows for large retry counts', () => {
    expect(fullJitterDelay(policy, 10_000, () => 0.5)).toBe(125);
  });
});
