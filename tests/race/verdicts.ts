/**
 * What the race ops count and when a count breaks an invariant, as pure functions of the answers,
 * the database rows and the provider's ledger, so a test can show each check fails on a doctored
 * count.
 */

import type { EmulatedPaymentIntent, EmulatedRefund } from '@chargeonce/stripe-emulator';
import { domainCodeOf } from './shared';

/** The codes of a refund refused because there is nothing (or not enough) left to refund. */
export const REFUND_REFUSALS = ['ORDER_NOT_REFUNDABLE', 'REFUND_EXCEEDS_REFUNDABLE'] as const;

/** How a refund call ended for the race: money given back, refused as it must be, or anything else. */
export function refundAnswerKind(
  result: PromiseSettledResult<{ outcome: string }>,
): 'refunded' | 'refused' | 'other' {
  if (result.status === 'fulfilled') return result.value.outcome === 'refunded' ? 'refunded' : 'other';
  const code = domainCodeOf(result.reason);
  return (REFUND_REFUSALS as readonly (string | undefined)[]).includes(code) ? 'refused' : 'other';
}

/** The provider's succeeded refunds of these PaymentIntents: how many, and their sum. */
export function providerRefunds(
  ledger: readonly Pick<EmulatedRefund, 'payment_intent' | 'amount' | 'status'>[],
  paymentIntentIds: readonly string[],
): { count: number; amount: number } {
  const succeeded = ledger.filter(
    (r) => r.status === 'succeeded' && paymentIntentIds.includes(r.payment_intent),
  );
  return { count: succeeded.length, amount: succeeded.reduce((sum, r) => sum + r.amount, 0) };
}

export interface RefundSummary {
  op: 'refund';
  clicks: number;
  instances: number;
  amount: number;
  refunds_succeeded: number;
  refunded_amount: number;
  provider_refunded_amount: number;
  refused: number;
  other: number;
}

/**
 * The refund race's invariants: exactly `parts` refunds succeeded (1 for full refunds), the whole
 * amount went back by the database and by the provider, every other call was refused, and the
 * provider's and the database's succeeded refunds are as many as the callers were told of.
 */
export function refundFailures(
  s: RefundSummary,
  facts: { parts: number; providerRefunds: number; databaseRefunds: number },
): string[] {
  const failures: string[] = [];
  if (s.refunds_succeeded !== facts.parts) {
    failures.push(`${s.refunds_succeeded} refunds succeeded, expected exactly ${facts.parts}`);
  }
  if (s.refunded_amount !== s.amount) {
    failures.push(`the order's refunded_amount is ${s.refunded_amount}, expected ${s.amount}`);
  }
  if (s.provider_refunded_amount !== s.amount) {
    failures.push(
      `the provider refunded ${s.provider_refunded_amount} of the PaymentIntent, expected ${s.amount}`,
    );
  }
  if (s.other !== 0) failures.push(`${s.other} calls were neither refunded nor refused as nothing was left`);
  if (s.refunds_succeeded + s.refused + s.other !== s.clicks) {
    failures.push(`${s.refunds_succeeded + s.refused + s.other} answers counted for ${s.clicks} calls`);
  }
  if (facts.providerRefunds !== s.refunds_succeeded) {
    failures.push(
      `the provider has ${facts.providerRefunds} succeeded refunds, callers were told of ${s.refunds_succeeded}`,
    );
  }
  if (facts.databaseRefunds !== s.refunds_succeeded) {
    failures.push(
      `the database has ${facts.databaseRefunds} succeeded refunds, callers were told of ${s.refunds_succeeded}`,
    );
  }
  return failures;
}

/** One cancel-vs-pay trial as it ended: the order's status, its PaymentIntents, the cancel's answer. */
export interface TrialEnd {
  status: string;
  paymentIntents: number;
  /** `canceled`, `already_canceled`, or the refusal's domain code / error. */
  cancelAnswer: string;
}

export type TrialKind = 'canceled' | 'paid' | 'both' | 'neither';

/**
 * Exactly one winner: canceled with no PaymentIntent, or paid with exactly one. `both`: canceled
 * although a PaymentIntent was made, or paid although its cancel was answered `canceled`.
 */
export function classifyTrial(t: TrialEnd): TrialKind {
  if (t.status === 'canceled') return t.paymentIntents === 0 ? 'canceled' : 'both';
  if (t.status === 'paid' && t.cancelAnswer === 'canceled') return 'both';
  if (t.status === 'paid' && t.paymentIntents === 1) return 'paid';
  return 'neither';
}

export interface CancelVsPaySummary {
  op: 'cancel-vs-pay';
  trials: number;
  canceled: number;
  paid: number;
  both: number;
  neither: number;
  provider_payment_intents: number;
}

export function summarizeTrials(trials: readonly TrialEnd[]): CancelVsPaySummary {
  const kinds = trials.map(classifyTrial);
  const count = (kind: TrialKind) => kinds.filter((k) => k === kind).length;
  return {
    op: 'cancel-vs-pay',
    trials: trials.length,
    canceled: count('canceled'),
    paid: count('paid'),
    both: count('both'),
    neither: count('neither'),
    provider_payment_intents: trials.reduce((n, t) => n + t.paymentIntents, 0),
  };
}

/** The cancel-vs-pay race's invariant: every trial had exactly one winner. */
export function cancelVsPayFailures(s: CancelVsPaySummary): string[] {
  const failures: string[] = [];
  if (s.both > 0) failures.push(`${s.both} orders were both canceled and paid`);
  if (s.neither > 0)
    failures.push(`${s.neither} orders ended neither canceled (no PaymentIntent) nor paid (one)`);
  if (s.canceled + s.paid + s.both + s.neither !== s.trials) {
    failures.push(`${s.canceled + s.paid + s.both + s.neither} outcomes counted for ${s.trials} trials`);
  }
  return failures;
}

/** What a capture-vs-void trial reads of an order's PaymentIntents at the provider. */
export type ProviderIntent = Pick<
  EmulatedPaymentIntent,
  'status' | 'amount_received' | 'cancellation_reason'
>;

/** One capture-vs-void trial as it ended: the order in the database, its PaymentIntents, both answers. */
export interface CaptureTrialEnd {
  amount: number;
  status: string;
  intents: readonly ProviderIntent[];
  /** `captured`, `already_captured`, `pending`, or the refusal's domain code / error. */
  captureAnswer: string;
  /** `voided`, `already_voided`, `pending`, or the refusal's domain code / error. */
  voidAnswer: string;
}

export type CaptureTrialKind = 'captured' | 'voided' | 'both' | 'neither';

/** The provider took money: the PaymentIntent succeeded with something received. */
const providerCaptured = (pi: ProviderIntent) => pi.status === 'succeeded' && pi.amount_received > 0;

/**
 * The order and the provider agree: it has one PaymentIntent, and the order is paid exactly when
 * that succeeded with the whole amount received, canceled exactly when it was canceled.
 */
export function agreesWithProvider(t: CaptureTrialEnd): boolean {
  const [pi, ...more] = t.intents;
  if (!pi || more.length > 0) return false;
  const taken = pi.status === 'succeeded' && pi.amount_received === t.amount;
  return (t.status === 'paid') === taken && (t.status === 'canceled') === (pi.status === 'canceled');
}

/**
 * Exactly one winner. `captured`: paid, the capture told `captured`, the provider took the whole
 * amount. `voided`: canceled, the void told `voided`, the PaymentIntent canceled as the void asks
 * (`requested_by_customer`). `both`: both calls told they won, or money taken at the provider from
 * an order that is canceled or whose void won, or a PaymentIntent canceled under an order that is
 * paid or whose capture won. `neither`: anything else (still authorized, stuck capturing or
 * voiding, no winner, the order and the provider disagreeing otherwise).
 */
export function classifyCaptureTrial(t: CaptureTrialEnd): CaptureTrialKind {
  const captureWon = t.captureAnswer === 'captured';
  const voidWon = t.voidAnswer === 'voided';
  const taken = t.intents.some(providerCaptured);
  const released = t.intents.some((pi) => pi.status === 'canceled');
  if (
    (captureWon && voidWon) ||
    (taken && (voidWon || t.status === 'canceled')) ||
    (released && (captureWon || t.status === 'paid'))
  ) {
    return 'both';
  }
  if (!agreesWithProvider(t)) return 'neither';
  if (captureWon && t.status === 'paid') return 'captured';
  if (voidWon && t.status === 'canceled' && t.intents[0]?.cancellation_reason === 'requested_by_customer') {
    return 'voided';
  }
  return 'neither';
}

export interface CaptureVsVoidSummary {
  op: 'capture-vs-void';
  trials: number;
  captured: number;
  voided: number;
  both: number;
  neither: number;
  /** PaymentIntents of these orders the provider shows captured (money taken). */
  provider_captures: number;
  /** Orders that disagree with the provider (`agreesWithProvider`); each is also `both` or `neither`. */
  mismatches: number;
}

export function summarizeCaptureTrials(trials: readonly CaptureTrialEnd[]): CaptureVsVoidSummary {
  const kinds = trials.map(classifyCaptureTrial);
  const count = (kind: CaptureTrialKind) => kinds.filter((k) => k === kind).length;
  return {
    op: 'capture-vs-void',
    trials: trials.length,
    captured: count('captured'),
    voided: count('voided'),
    both: count('both'),
    neither: count('neither'),
    provider_captures: trials.reduce((n, t) => n + t.intents.filter(providerCaptured).length, 0),
    mismatches: trials.filter((t) => !agreesWithProvider(t)).length,
  };
}

/** The capture-vs-void race's invariants: one winner per trial, and the provider agrees with every order. */
export function captureVsVoidFailures(s: CaptureVsVoidSummary): string[] {
  const failures: string[] = [];
  if (s.both > 0) failures.push(`${s.both} orders were both captured and voided (or both calls won)`);
  if (s.neither > 0) failures.push(`${s.neither} orders ended with neither the capture nor the void winning`);
  if (s.mismatches > 0)
    failures.push(`${s.mismatches} orders disagree with their PaymentIntent at the provider`);
  if (s.provider_captures !== s.captured) {
    failures.push(
      `the provider captured ${s.provider_captures} PaymentIntents, ${s.captured} orders were captured`,
    );
  }
  const counted = s.captured + s.voided + s.both + s.neither;
  if (counted !== s.trials) failures.push(`${counted} outcomes counted for ${s.trials} trials`);
  return failures;
}
