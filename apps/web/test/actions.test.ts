import { describe, expect, it } from 'vitest';
import { describeError, isFinalAnswer } from '../src/errors';
import {
  checkRefundAmount,
  offeredAction,
  pendingRefundAmount,
  reasonInWords,
  refundableAmount,
  refundFailureInWords,
} from '../src/order/actions';
import type { OrderStatus } from '../src/order/view';
import { answer, order, refund } from './fixtures';

describe('what the order page offers', () => {
  it('Cancel while nothing is charged, Refund while some of the charge is left, else nothing', () => {
    const offers: Record<OrderStatus, ReturnType<typeof offeredAction>> = {
      pending: 'cancel',
      failed: 'cancel',
      // A payment in flight can be neither canceled nor refunded: the page waits for its outcome.
      processing: null,
      requires_action: null,
      paid: 'refund',
      partially_refunded: 'refund',
      refunded: null,
      canceled: null,
      // An open hold is the merchant's to capture or release: the customer can neither cancel nor refund it.
      authorized: null,
      capturing: null,
      voiding: null,
    };
    for (const [status, offer] of Object.entries(offers)) {
      const refundedAmount = status === 'partially_refunded' ? 1000 : status === 'refunded' ? 4200 : 0;
      expect(offeredAction(order({ status: status as OrderStatus, refundedAmount })), status).toBe(offer);
    }
  });
  it('no Refund once refunds reserved or made take all of the charge', () => {
    // Refunds still pending count: the status may lag a snapshot, the amount decides.
    expect(offeredAction(order({ status: 'partially_refunded', refundedAmount: 4200 }))).toBeNull();
    expect(refundableAmount(order({ status: 'partially_refunded', refundedAmount: 1250 }))).toBe(2950);
  });
});

describe('the refund amount field', () => {
  const paid = order({ status: 'partially_refunded', refundedAmount: 1200 }); // $30.00 left
  it('empty is a full refund of what is left: no amount is sent', () => {
    expect(checkRefundAmount('', paid)).toEqual({ ok: true, amount: undefined });
    expect(checkRefundAmount('   ', paid)).toEqual({ ok: true, amount: undefined });
  });
  it('reads integer minor units, never through floats, up to all that is left', () => {
    expect(checkRefundAmount('10', paid)).toEqual({ ok: true, amount: 1000 });
    expect(checkRefundAmount('0.29', paid)).toEqual({ ok: true, amount: 29 });
    expect(checkRefundAmount('1.13', paid)).toEqual({ ok: true, amount: 113 });
    expect(checkRefundAmount('30,00', paid)).toEqual({ ok: true, amount: 3000 });
    expect(checkRefundAmount(' 30.00 ', paid)).toEqual({ ok: true, amount: 3000 });
  });
  it('refuses 0, negatives, too many decimals and what is not an amount, with an example', () => {
    for (const text of ['0', '0.00', '-5', '1.234', 'ten', '1e3', '$5']) {
      const check = checkRefundAmount(text, paid);
      expect(check.ok, text).toBe(false);
      if (!check.ok) expect(check.message).toMatch(/greater than 0, like 30\.00/);
    }
  });
  it('refuses more than is left, saying how much is', () => {
    const check = checkRefundAmount('30.01', paid);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.message).toMatch(/At most \$30\.00 is left to refund/);
  });
  it('follows the currency’s decimals', () => {
    const yen = order({ status: 'paid', amount: 500, currency: 'jpy' });
    expect(checkRefundAmount('500', yen)).toEqual({ ok: true, amount: 500 });
    expect(checkRefundAmount('10.5', yen).ok).toBe(false);
    const check = checkRefundAmount('x', yen);
    if (!check.ok) expect(check.message).toMatch(/like 500,/);
  });
});

describe('refunds in words', () => {
  it('names Stripe’s reasons, and shows none or an unknown one as it is', () => {
    expect(reasonInWords('requested_by_customer')).toBe('Requested by the customer');
    expect(reasonInWords(null)).toBe('—');
    expect(reasonInWords('something_new')).toBe('something_new');
    expect(reasonInWords('toString')).toBe('toString');
  });
  it('says why a refund failed, in words, whatever the code', () => {
    expect(refundFailureInWords('expired_or_canceled_card')).toBe(
      'the card can no longer take the money back',
    );
    expect(refundFailureInWords('provider_unavailable')).toBe('the payment service was unavailable');
    for (const code of [null, 'unknown', 'constructor']) {
      expect(refundFailureInWords(code)).toBe('the payment provider could not make it');
    }
  });
  it('counts what the provider has not confirmed yet', () => {
    const refunds = [
      refund('r1'),
      refund('r2', { status: 'pending', amount: 250 }),
      refund('r3', { status: 'pending', amount: 50 }),
      refund('r4', { status: 'failed' }),
    ];
    expect(pendingRefundAmount(refunds)).toBe(300);
    expect(pendingRefundAmount([])).toBe(0);
  });
});

describe('refund and cancel errors', () => {
  it('each says what happened and that nothing moved', () => {
    const words = (code: string, domainCode: string, status: number) =>
      describeError(answer(code, domainCode, status));
    expect(words('CONFLICT', 'ORDER_NOT_REFUNDABLE', 409)).toMatch(
      /cannot be refunded.*Nothing was refunded/,
    );
    expect(words('CONFLICT', 'REFUND_EXCEEDS_REFUNDABLE', 409)).toMatch(/more than is left to refund/);
    expect(words('UNPROCESSABLE_CONTENT', 'REFUND_FAILED', 422)).toMatch(
      /could not make this refund; nothing was refunded/,
    );
    expect(words('SERVICE_UNAVAILABLE', 'PROVIDER_UNAVAILABLE', 503)).toMatch(
      /not answering.*no money moved/,
    );
    expect(words('CONFLICT', 'PAYMENT_IN_PROGRESS', 409)).toMatch(/payment of this order is in progress/);
    expect(words('CONFLICT', 'ORDER_NOT_CANCELABLE', 409)).toMatch(/cannot be canceled\. Refund it instead/);
    // A card the provider rejects is still about the card.
    expect(words('UNPROCESSABLE_CONTENT', 'PAYMENT_REJECTED', 422)).toMatch(/rejected this card/);
  });
  it('a definite answer moves the action key on; no answer, an unknown 5xx or a key still in use keep it', () => {
    expect(isFinalAnswer(answer('UNPROCESSABLE_CONTENT', 'REFUND_FAILED', 422))).toBe(true);
    expect(isFinalAnswer(answer('CONFLICT', 'PAYMENT_IN_PROGRESS', 409))).toBe(true);
    expect(isFinalAnswer(answer('BAD_REQUEST', null, 400))).toBe(true);
    // No money moved: the refund under the key stays failed, so only a new key can try again.
    expect(isFinalAnswer(answer('SERVICE_UNAVAILABLE', 'PROVIDER_UNAVAILABLE', 503))).toBe(true);
    expect(isFinalAnswer(answer('INTERNAL_SERVER_ERROR', null, 500))).toBe(false);
    expect(isFinalAnswer(answer('BAD_GATEWAY', null, 502))).toBe(false);
    expect(isFinalAnswer(answer('CONFLICT', 'IDEMPOTENCY_KEY_IN_USE', 409))).toBe(false);
    expect(isFinalAnswer(new TypeError('Failed to fetch'))).toBe(false);
  });
});
