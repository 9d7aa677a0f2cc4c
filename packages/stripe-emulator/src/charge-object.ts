import { paymentMethodObject } from './payment-methods';
import type { RefundObject } from './refund-object';
import type { PaymentIntentObject, ShippingDetails } from './types';

/**
 * The Stripe API shape of a PaymentIntent's succeeded card Charge, as the emulator serves it in
 * `charge.refunded` events: every field of stripe-node's `Stripe.Charge` that is not optional (the
 * `refunds` list is expand-only in this API version, and absent). The emulator keeps no charge
 * records: a charge is derived from its PaymentIntent and that PaymentIntent's refunds.
 */
export interface ChargeObject {
  id: string;
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  application: null;
  application_fee: null;
  application_fee_amount: number | null;
  balance_transaction: string;
  billing_details: {
    address: Record<'city' | 'country' | 'line1' | 'line2' | 'postal_code' | 'state', null>;
    email: null;
    name: null;
    phone: null;
    tax_id: null;
  };
  calculated_statement_descriptor: string | null;
  captured: boolean;
  created: number;
  currency: string;
  customer: string | null;
  description: string | null;
  disputed: false;
  failure_balance_transaction: null;
  failure_code: null;
  failure_message: null;
  fraud_details: Record<string, never>;
  livemode: false;
  metadata: Record<string, string>;
  on_behalf_of: null;
  outcome: Record<string, string | number | null>;
  paid: true;
  payment_intent: string;
  payment_method: string | null;
  payment_method_details: { card: Record<string, unknown>; type: 'card' };
  receipt_email: string | null;
  receipt_number: null;
  receipt_url: null;
  refunded: boolean;
  review: null;
  shipping: ShippingDetails | null;
  source: null;
  source_transfer: null;
  statement_descriptor: string | null;
  statement_descriptor_suffix: string | null;
  status: 'succeeded';
  transfer_data: null;
  transfer_group: string | null;
}

/** What a charge has given back and what is left to refund. */
export interface RefundTotals {
  /**
   * The charge's `amount_refunded`: refunds that succeeded, plus what a partial capture released
   * (Stripe counts an uncaptured remainder as refunded).
   */
  refunded: number;
  /** Pending refunds: not counted as refunded yet, but no longer refundable either. */
  pending: number;
  /** What a new refund may take: the captured amount less succeeded and pending refunds. */
  refundable: number;
}

/** Failed refunds count for nothing: their money went back to the charge. */
export function refundTotals(pi: PaymentIntentObject, refunds: readonly RefundObject[]): RefundTotals {
  const sum = (status: RefundObject['status']) =>
    refunds.filter((r) => r.status === status).reduce((total, r) => total + r.amount, 0);
  const succeeded = sum('succeeded');
  const pending = sum('pending');
  return {
    refunded: pi.amount - pi.amount_received + succeeded,
    pending,
    refundable: pi.amount_received - succeeded - pending,
  };
}

/**
 * The PaymentIntent's latest charge, with its refunds applied: of a succeeded PaymentIntent, or of
 * an expired authorization (uncaptured, its whole amount released, as Stripe shows it).
 */
export function chargeObject(pi: PaymentIntentObject, refunds: readonly RefundObject[]): ChargeObject {
  const id = pi.latest_charge ?? '';
  const { refunded } = refundTotals(pi, refunds);
  const card = paymentMethodObject(pi.payment_method ?? '').card as Record<string, unknown>;
  return {
    id,
    object: 'charge',
    amount: pi.amount,
    amount_captured: pi.amount_received,
    amount_refunded: refunded,
    application: null,
    application_fee: null,
    application_fee_amount: pi.application_fee_amount,
    balance_transaction: `txn_${id.slice(3)}`,
    billing_details: {
      address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
      email: null,
      name: null,
      phone: null,
      tax_id: null,
    },
    calculated_statement_descriptor: pi.statement_descriptor,
    // An expired authorization's charge (`charge.expired`) was never captured.
    captured: pi.status === 'succeeded',
    // The emulator does not record when the charge was made; its PaymentIntent's time stands in.
    created: pi.created,
    currency: pi.currency,
    customer: pi.customer,
    description: pi.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    fraud_details: {},
    livemode: false,
    metadata: { ...pi.metadata },
    on_behalf_of: null,
    outcome: {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: 'approved_by_network',
      reason: null,
      risk_level: 'normal',
      seller_message: 'Payment complete.',
      type: 'authorized',
    },
    paid: true,
    payment_intent: pi.id,
    payment_method: pi.payment_method,
    payment_method_details: {
      card: {
        amount_authorized: pi.amount,
        authorization_code: null,
        brand: card.brand,
        checks: card.checks,
        country: card.country,
        electronic_commerce_indicator: null,
        exp_month: card.exp_month,
        exp_year: card.exp_year,
        funding: card.funding,
        installments: null,
        last4: card.last4,
        mandate: null,
        network: card.brand,
        network_transaction_id: null,
        regulated_status: null,
        three_d_secure: null,
        transaction_link_id: null,
        wallet: null,
      },
      type: 'card',
    },
    receipt_email: pi.receipt_email,
    receipt_number: null,
    receipt_url: null,
    refunded: refunded >= pi.amount,
    review: null,
    shipping: pi.shipping,
    source: null,
    source_transfer: null,
    statement_descriptor: pi.statement_descriptor,
    statement_descriptor_suffix: pi.statement_descriptor_suffix,
    status: 'succeeded',
    transfer_data: null,
    transfer_group: pi.transfer_group,
  };
}
