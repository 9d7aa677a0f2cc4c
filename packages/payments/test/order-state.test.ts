import { orderStatus } from '@chargeonce/db';
import { describe, expect, it } from 'vitest';
import { assertTransition, canTransition, isPaid, isPayable, ORDER_TRANSITIONS } from '../src/order-state';

describe('order state machine', () => {
  it('covers every status of the database enum', () => {
    expect(Object.keys(ORDER_TRANSITIONS).sort()).toEqual([...orderStatus.enumValues].sort());
  });
  it('allows the pay path and forbids leaving a final state', () => {
    expect(canTransition('pending', 'processing')).toBe(true);
    expect(canTransition('processing', 'paid')).toBe(true);
    expect(canTransition('failed', 'processing')).toBe(true);
    expect(canTransition('paid', 'processing')).toBe(false);
    expect(canTransition('canceled', 'processing')).toBe(false);
    expect(() => assertTransition('refunded', 'paid')).toThrow(/illegal order transition/);
  });
  it('classifies payable and paid states', () => {
    expect(isPayable('pending') && isPayable('failed')).toBe(true);
    expect(isPayable('processing') || isPayable('paid')).toBe(false);
    expect(isPaid('paid') && isPaid('refunded')).toBe(true);
    expect(isPaid('processing')).toBe(false);
  });
});
