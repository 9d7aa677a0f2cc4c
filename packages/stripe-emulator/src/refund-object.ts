import { nowSeconds, randomId } from './ids';
import type { PaymentIntentObject } from './types';

export type RefundStatus = 'pending' | 'succeeded' | 'failed';

/**
 * The Stripe API shape of a card Refund, as the emulator serves it: every required field of
 * stripe-node's `Stripe.Refund` (test/refund-objects.test.ts fails to typecheck when one is missing),
 * in Stripe's key order. As in Stripe's recorded card refunds, a Refund has no `livemode`, and the
 * optional `failure_reason`, `failure_balance_transaction` and `pending_reason` are present only
 * while they have a value (`description`, `instructions_email`, `next_action` and
 * `presentment_details` never do for a card refund).
 */
export interface RefundObject {
  id: string;
  object: 'refund';
  amount: number;
  balance_transaction: string | null;
  charge: string;
  created: number;
  currency: string;
  customer: string | null;
  customer_account: string | null;
  destination_details: {
    card: {
      reference_status: 'pending';
      reference_type: 'acquirer_reference_number';
      type: 'pending' | 'refund';
    };
    type: 'card';
  };
  failure_balance_transaction?: string;
  failure_reason?: string;
  metadata: Record<string, string>;
  payment_intent: string;
  payment_method: string | null;
  pending_reason?: 'processing';
  reason: string | null;
  receipt_number: null;
  source_transfer_reversal: null;
  status: RefundStatus;
  transfer_reversal: null;
}

/**
 * Why a `pm_card_refundFail` refund fails: Stripe's description of that card ("refunding a captured
 * charge fails asynchronously with a failure_reason of expired_or_canceled_card").
 */
export const TEST_REFUND_FAILURE_REASON = 'expired_or_canceled_card';

export interface NewRefund {
  amount: number;
  reason: string | null;
  metadata: Record<string, string>;
  status: 'pending' | 'succeeded';
}

/** A new refund of the PaymentIntent's (latest, succeeded) charge. */
export function newRefund(pi: PaymentIntentObject, known: NewRefund): RefundObject {
  const id = randomId('re');
  const refund: RefundObject = {
    id,
    object: 'refund',
    amount: known.amount,
    // The balance transaction that takes the money back; the emulator has no balance, so it is an
    // id only (derived from the refund's, as Stripe's ids for one payment share their stem).
    balance_transaction: `txn_${id.slice(3)}`,
    charge: pi.latest_charge ?? '',
    created: nowSeconds(),
    currency: pi.currency,
    customer: pi.customer,
    customer_account: pi.customer_account,
    destination_details: {
      card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' },
      type: 'card',
    },
    metadata: known.metadata,
    payment_intent: pi.id,
    payment_method: pi.payment_method,
    reason: known.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: known.status,
    transfer_reversal: null,
  };
  return withStatus(refund, known.status);
}

/** Stripe's key order for a Refund (alphabetical after `id` and `object`). */
const KEY_ORDER: readonly (keyof RefundObject)[] = [
  'id',
  'object',
  'amount',
  'balance_transaction',
  'charge',
  'created',
  'currency',
  'customer',
  'customer_account',
  'destination_details',
  'failure_balance_transaction',
  'failure_reason',
  'metadata',
  'payment_intent',
  'payment_method',
  'pending_reason',
  'reason',
  'receipt_number',
  'source_transfer_reversal',
  'status',
  'transfer_reversal',
];

/**
 * The refund in a new status, its keys in Stripe's order: a `pending` refund says why
 * (`pending_reason: 'processing'`) and its card destination is of type `pending`; a `failed` one
 * names its `failure_reason` and the balance transaction that gave the money back.
 */
export function withStatus(refund: RefundObject, status: RefundStatus): RefundObject {
  const {
    failure_balance_transaction: _failedTxn,
    failure_reason: _failure,
    pending_reason: _pending,
    ...rest
  } = refund;
  const next: RefundObject = {
    ...rest,
    destination_details: {
      card: { ...rest.destination_details.card, type: status === 'pending' ? 'pending' : 'refund' },
      type: 'card',
    },
    status,
  };
  if (status === 'pending') next.pending_reason = 'processing';
  if (status === 'failed') {
    next.failure_balance_transaction = randomId('txn');
    next.failure_reason = TEST_REFUND_FAILURE_REASON;
  }
  const ordered: Record<string, unknown> = {};
  for (const key of KEY_ORDER) if (next[key] !== undefined) ordered[key] = next[key];
  return ordered as unknown as RefundObject;
}
