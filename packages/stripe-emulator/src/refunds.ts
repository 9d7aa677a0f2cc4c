import { chargeObject, type RefundTotals, refundTotals } from './charge-object';
import type { ApiContext, ApiResult } from './context';
import { formatMoney } from './currencies';
import { invalidRequest, resourceMissing } from './errors';
import { listNewestFirst } from './list';
import { nonEmpty } from './payment-intent-object';
import { type RefundBehaviour, refundBehaviour } from './payment-methods';
import { newRefund, type RefundObject, type RefundStatus, withStatus } from './refund-object';
import type { EmulatorState, EventCause, PaymentIntentRecord, RefundRecord } from './store';
import type { PaymentIntentObject } from './types';
import {
  optionalBoolean,
  optionalEnum,
  optionalPositiveInteger,
  optionalString,
  parseMetadata,
} from './validate';

const REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;
const ASYNC_CAUSE: EventCause = { id: null, idempotency_key: null };

/**
 * How a test card's refund moves on after `refundDelayMs`: from which status to which
 * (https://docs.stripe.com/testing#refunds; every other card's refund stays as it was created).
 */
const SETTLES: Partial<Record<RefundBehaviour, [RefundStatus, RefundStatus]>> = {
  pending_then_succeeds: ['pending', 'succeeded'],
  succeeds_then_fails: ['succeeded', 'failed'],
};

/**
 * `POST /v1/refunds` of a PaymentIntent's charge (named by `payment_intent`, or by `charge`: the
 * PaymentIntent's latest charge). Every check happens before anything is stored, so a refused
 * request stores nothing under its key, as for PaymentIntents. A refund that succeeds emits
 * `refund.created` then `charge.refunded` (the charge with the refund counted), the pair Stripe's
 * recorded card refunds emit; a `pending` one emits `refund.created` only, until it settles.
 */
export function createRefund(ctx: ApiContext): ApiResult {
  const p = ctx.params;
  const requested = optionalPositiveInteger(p, 'amount');
  const reason = optionalEnum(p, 'reason', REASONS) ?? null;
  const metadata = parseMetadata(p);
  // Validated, not acted on: the emulator has no customer balances, Connect fees or transfers.
  for (const name of ['currency', 'customer', 'instructions_email']) optionalString(p, name);
  optionalEnum(p, 'origin', ['customer_balance']);
  optionalBoolean(p, 'refund_application_fee');
  optionalBoolean(p, 'reverse_transfer');

  const { pi } = refundTarget(ctx);
  checkSucceeded(pi);
  const totals = refundTotals(pi, ctx.state.refundsOf(pi.id));
  if (totals.refundable <= 0) {
    throw invalidRequest(`Charge ${pi.latest_charge} has already been refunded.`, {
      code: 'charge_already_refunded',
    });
  }
  const amount = requested ?? totals.refundable;
  if (amount > totals.refundable) throw overRefund(amount, pi, totals);

  const behaviour = refundBehaviour(pi.payment_method);
  const status = behaviour === 'pending_then_succeeds' ? 'pending' : 'succeeded';
  const record = ctx.state.addRefund(newRefund(pi, { amount, reason, metadata, status }), ctx.idempotencyKey);
  const cause = { id: ctx.requestId, idempotency_key: ctx.idempotencyKey };
  ctx.state.emitEvent('refund.created', record.refund, cause);
  if (status === 'succeeded') emitChargeRefunded(ctx.state, pi, cause);
  if (SETTLES[behaviour]) {
    record.settleAt = Date.now() + ctx.state.refundDelayMs;
    ctx.state.listeners.refundSettling(record);
  }
  return { status: 200, body: record.refund };
}

/** `GET /v1/refunds/:id` */
export function retrieveRefund(ctx: ApiContext): ApiResult {
  const id = ctx.path.id ?? '';
  const record = ctx.state.getRefund(id);
  if (!record) throw resourceMissing(`No such refund: '${id}'`, 'refund');
  return { status: 200, body: record.refund };
}

/** `GET /v1/refunds`: newest first, optionally of one `payment_intent` or `charge`. */
export function listRefunds(ctx: ApiContext): ApiResult {
  return listNewestFirst(ctx, {
    url: '/v1/refunds',
    records: ctx.state.refunds(),
    find: (id) => ctx.state.getRefund(id),
    noun: 'refund',
    created: (r) => r.refund.created,
    where: (p) => {
      const paymentIntent = nonEmpty(optionalString(p, 'payment_intent'));
      const charge = nonEmpty(optionalString(p, 'charge'));
      return ({ refund }) =>
        (paymentIntent === null || refund.payment_intent === paymentIntent) &&
        (charge === null || refund.charge === charge);
    },
    object: (r) => r.refund,
  });
}

/**
 * Moves a test card's refund to its final status (`pending` → `succeeded`, or `succeeded` →
 * `failed`, which gives the amount back to the charge). Both changes emit `refund.updated` and
 * `charge.refund.updated` (the event Stripe's docs name for these cards), then `charge.refunded`
 * for a success or `refund.failed` for a failure. Safe to call twice: a refund no longer in its first
 * status is left alone.
 */
export function settleRefund(state: EmulatorState, record: RefundRecord): boolean {
  delete record.settleAt;
  const before = record.refund;
  const change = SETTLES[refundBehaviour(before.payment_method)];
  if (!change || before.status !== change[0]) return false;
  const after = withStatus(before, change[1]);
  record.refund = after;
  const previous = changedFields(before, after);
  state.emitEvent('refund.updated', after, ASYNC_CAUSE, previous);
  state.emitEvent('charge.refund.updated', after, ASYNC_CAUSE, previous);
  const paymentIntent = state.getPaymentIntent(after.payment_intent);
  if (after.status === 'failed') state.emitEvent('refund.failed', after, ASYNC_CAUSE);
  else if (paymentIntent) emitChargeRefunded(state, paymentIntent.pi, ASYNC_CAUSE);
  return true;
}

function emitChargeRefunded(state: EmulatorState, pi: PaymentIntentObject, cause: EventCause): void {
  state.emitEvent('charge.refunded', chargeObject(pi, state.refundsOf(pi.id)), cause);
}

/** The earlier values of the fields that changed (null for one that was absent). */
function changedFields(before: RefundObject, after: RefundObject): Record<string, unknown> {
  const previous: Record<string, unknown> = {};
  const keys = new Set([...Object.keys(before), ...Object.keys(after)] as (keyof RefundObject)[]);
  for (const key of keys) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) previous[key] = before[key] ?? null;
  }
  return previous;
}

/** The PaymentIntent a create names, by `payment_intent`, `charge` (its latest charge), or both. */
function refundTarget(ctx: ApiContext): PaymentIntentRecord {
  const paymentIntentId = nonEmpty(optionalString(ctx.params, 'payment_intent'));
  const chargeId = nonEmpty(optionalString(ctx.params, 'charge'));
  if (paymentIntentId === null && chargeId === null) {
    throw invalidRequest(
      'One of the following params should be provided for this request: payment_intent or charge.',
    );
  }
  let byCharge: PaymentIntentRecord | undefined;
  if (chargeId !== null) {
    byCharge = ctx.state.paymentIntents().find((r) => r.pi.latest_charge === chargeId);
    // As recorded from Stripe: `param` is `id` here, although `charge` is a body parameter.
    if (!byCharge) throw resourceMissing(`No such charge: '${chargeId}'`, 'id');
  }
  if (paymentIntentId === null) return byCharge as PaymentIntentRecord;
  const record = ctx.state.getPaymentIntent(paymentIntentId);
  if (!record) throw resourceMissing(`No such payment_intent: '${paymentIntentId}'`, 'payment_intent');
  if (byCharge && byCharge !== record) {
    throw invalidRequest(`Charge ${chargeId} does not belong to PaymentIntent ${paymentIntentId}.`, {
      param: 'charge',
    });
  }
  return record;
}

/** Only a succeeded PaymentIntent has a captured, successful charge to refund. */
function checkSucceeded(pi: PaymentIntentObject): void {
  if (pi.status === 'succeeded') return;
  if (pi.status === 'requires_capture') {
    throw invalidRequest(
      `This uncaptured Charge was created by a PaymentIntent (${pi.id}). You must cancel the PaymentIntent to reverse the authorization instead of refunding the Charge directly. For more information, see https://stripe.com/docs/payments/place-a-hold-on-a-payment-method`,
    );
  }
  throw invalidRequest(`This PaymentIntent (${pi.id}) does not have a successful charge to refund.`);
}

/**
 * Stripe's over-refund answers (recorded): "... is greater than charge amount ($1.00)" while nothing
 * has been refunded, "... is greater than unrefunded amount on charge ($30.00)" after that; `param`
 * `amount`, no `code`.
 */
function overRefund(amount: number, pi: PaymentIntentObject, totals: RefundTotals) {
  const money = (minor: number) => formatMoney(minor, pi.currency);
  const untouched = totals.refunded === 0 && totals.pending === 0;
  const limit = untouched
    ? `charge amount (${money(pi.amount)})`
    : `unrefunded amount on charge (${money(totals.refundable)})`;
  return invalidRequest(`Refund amount (${money(amount)}) is greater than ${limit}`, { param: 'amount' });
}
