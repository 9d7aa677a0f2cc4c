/**
 * What the race ops count and when a count breaks an invariant, as pure functions of the answers,
 * the database rows and the provider's ledger, so a test can show each check fails on a doctored
 * count.
 */

import type { EmulatedRefund } from '@chargeonce/stripe-emulator';
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
