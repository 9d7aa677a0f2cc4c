import type { OrderStatus } from '@chargeonce/db';

/**
 * The order state machine, in one place. Every transition below is applied by a conditional
 * UPDATE on `version`; this table says which ones exist.
 */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ['processing', 'canceled'],
  processing: ['paid', 'failed', 'requires_action'],
  failed: ['processing', 'canceled'],
  requires_action: ['paid', 'failed'],
  paid: ['partially_refunded', 'refunded'],
  partially_refunded: ['partially_refunded', 'refunded'],
  refunded: [],
  canceled: [],
};

/** States from which a new payment attempt may claim the order. */
export const PAYABLE_STATUSES = ['pending', 'failed'] as const satisfies readonly OrderStatus[];

/** States in which the order has been paid (possibly refunded since). */
export const PAID_STATUSES = [
  'paid',
  'partially_refunded',
  'refunded',
] as const satisfies readonly OrderStatus[];

/** States in which an attempt is in flight and its outcome is awaited. */
export const IN_FLIGHT_STATUSES = ['processing', 'requires_action'] as const satisfies readonly OrderStatus[];

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ORDER_TRANSITIONS[from].includes(to);
}

export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) throw new Error(`illegal order transition ${from} -> ${to}`);
}

export function isPayable(status: OrderStatus): boolean {
  return (PAYABLE_STATUSES as readonly OrderStatus[]).includes(status);
}

export function isPaid(status: OrderStatus): boolean {
  return (PAID_STATUSES as readonly OrderStatus[]).includes(status);
}
