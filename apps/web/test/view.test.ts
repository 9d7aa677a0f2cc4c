import { describe, expect, it } from 'vitest';
import { declineInWords, describeError, isCardDecline } from '../src/errors';
import { newerOrder, payView, pollDelayMs, withAnswer } from '../src/order/view';
import { answer, attempt, data, order, refund } from './fixtures';

const idle = { paying: false, declineCode: undefined };

describe('payView', () => {
  it('paid wins over everything, whichever request got there first', () => {
    const paid = data(order({ status: 'paid', paymentIntentId: 'pi_1' }));
    expect(payView(paid, { paying: true, declineCode: 'generic_decline' })).toEqual({
      kind: 'paid',
      paymentIntentId: 'pi_1',
    });
  });
  it('a refunded order still shows how it was paid', () => {
    for (const status of ['partially_refunded', 'refunded'] as const) {
      expect(payView(data(order({ status, paymentIntentId: 'pi_1' })), idle)).toEqual({
        kind: 'paid',
        paymentIntentId: 'pi_1',
      });
    }
  });
  it('an unknown outcome is confirming and never offers to pay again', () => {
    expect(payView(data(order({ status: 'processing' })), idle)).toEqual({ kind: 'confirming' });
    // A 3-D Secure challenge open: the bank's page is next (see holds.test.ts), never Pay.
    expect(payView(data(order({ status: 'requires_action' })), idle).kind).toBe('challenge');
  });
  it('while this tab pays, the button says paying', () => {
    expect(payView(data(order()), { paying: true, declineCode: undefined })).toEqual({
      kind: 'payable',
      paying: true,
      declineCode: null,
    });
  });
  it('a failed order shows the latest attempt’s decline, or this tab’s own', () => {
    const failed = data(order({ status: 'failed', version: 5 }), {
      attempts: [
        attempt(2, { declineCode: 'expired_card' }),
        attempt(4, { declineCode: 'insufficient_funds' }),
      ],
    });
    expect(payView(failed, idle)).toEqual({
      kind: 'payable',
      paying: false,
      declineCode: 'insufficient_funds',
    });
    expect(payView(failed, { paying: false, declineCode: 'lost_card' })).toMatchObject({
      declineCode: 'lost_card',
    });
    const notADecline = data(failed.order, {
      attempts: [attempt(2, { declineCode: null, errorCode: 'abandoned' })],
    });
    expect(payView(notADecline, idle)).toMatchObject({ declineCode: 'abandoned' });
  });
  it('a canceled order is closed, even while a pay from this tab is still answered', () => {
    expect(payView(data(order({ status: 'canceled' })), idle)).toEqual({ kind: 'closed' });
    expect(payView(data(order({ status: 'canceled' })), { paying: true, declineCode: undefined })).toEqual({
      kind: 'closed',
    });
  });
});

describe('polling and snapshots', () => {
  const t0 = Date.parse('2026-12-01T10:00:00.000Z');
  it('polls only while in flight, a quarter of the age, between 0.5 s and 8 s', () => {
    expect(pollDelayMs(data(order({ status: 'paid' })), t0)).toBe(false);
    expect(pollDelayMs(undefined, t0)).toBe(false);
    const inFlight = data(order({ status: 'processing' }));
    expect(pollDelayMs(inFlight, t0 + 100)).toBe(500);
    expect(pollDelayMs(inFlight, t0 + 8_000)).toBe(2_000);
    expect(pollDelayMs(inFlight, t0 + 600_000)).toBe(8_000);
  });
  it('polls while a refund is not confirmed, counting from when it was asked for', () => {
    const asked = Date.parse('2026-12-01T11:00:00.000Z');
    const paid = order({ status: 'partially_refunded', refundedAmount: 1000 });
    const pending = data(paid, { refunds: [refund('r1', { status: 'pending', completedAt: null })] });
    expect(pollDelayMs(pending, asked + 4_000)).toBe(1_000);
    expect(
      pollDelayMs(data(paid, { refunds: [refund('r1'), refund('r2', { status: 'failed' })] }), asked),
    ).toBe(false);
  });
  it('keeps the newer of two snapshots of one order', () => {
    const v2 = order({ version: 2, status: 'processing' });
    const v3 = order({ version: 3, status: 'paid' });
    expect(newerOrder(v2, v3)).toBe(v3);
    expect(newerOrder(v3, v2)).toBe(v3);
  });
  it('takes in a mutation’s answer: the newer order, and its refund once', () => {
    const before = data(order({ version: 3, status: 'paid' }));
    const refunded = order({ version: 4, status: 'refunded', refundedAmount: 4200 });
    const after = withAnswer(before, { order: refunded, refund: refund('r1', { amount: 4200 }) });
    expect(after.order).toBe(refunded);
    expect(after.refunds.map((r) => r.id)).toEqual(['r1']);
    // The same answer again (the second click's replay), or an older snapshot, changes nothing.
    const again = withAnswer(after, {
      order: order({ version: 3, status: 'paid' }),
      refund: after.refunds[0]!,
    });
    expect(again.order).toBe(refunded);
    expect(again.refunds).toHaveLength(1);
    expect(withAnswer(before, { order: refunded }).refunds).toEqual([]);
  });
});

describe('errors in words', () => {
  it('names declines and failures that are not the card’s fault differently', () => {
    expect(declineInWords('insufficient_funds')).toBe('the card has insufficient funds');
    expect(isCardDecline('generic_decline')).toBe(true);
    expect(isCardDecline('provider_unavailable')).toBe(false);
    expect(declineInWords('provider_unavailable')).toBe('the payment service was unavailable');
    expect(declineInWords('something_new')).toBe('the bank declined the card');
  });
  it('an error that is not from the server is a sentence about the connection', () => {
    expect(describeError(new Error('fetch failed'))).toMatch(/could not be reached/);
  });
  it('idempotency key answers are not mistaken for the order or the card', () => {
    expect(describeError(answer('CONFLICT', 'IDEMPOTENCY_KEY_IN_USE', 409))).toMatch(/still being processed/);
    expect(describeError(answer('UNPROCESSABLE_CONTENT', 'IDEMPOTENCY_KEY_REUSED', 422))).toMatch(
      /other details/,
    );
    expect(describeError(answer('CONFLICT', 'ORDER_NOT_PAYABLE', 409))).toMatch(/cannot be paid/);
  });
});
