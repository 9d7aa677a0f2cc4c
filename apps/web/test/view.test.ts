import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import { declineInWords, describeError, isCardDecline } from '../src/errors';
import { newerOrder, type OrderWithAttempts, payView, pollDelayMs } from '../src/order/view';

const order = (over: Partial<OrderWithAttempts['order']> = {}): OrderWithAttempts['order'] => ({
  id: 'o1',
  userId: 'u1',
  amount: 4200,
  currency: 'usd',
  status: 'pending',
  version: 1,
  paymentMethodId: 'pm_card_visa',
  paymentIntentId: null,
  createdAt: '2026-12-01T10:00:00.000Z',
  updatedAt: '2026-12-01T10:00:00.000Z',
  paidAt: null,
  refundedAmount: 0,
  refundedAt: null,
  canceledAt: null,
  ...over,
});
const attempt = (claimVersion: number, over: Partial<OrderWithAttempts['attempts'][number]> = {}) => ({
  id: `a${claimVersion}`,
  claimVersion,
  status: 'failed' as const,
  paymentMethodId: 'pm_card_chargeDeclined',
  paymentIntentId: null,
  errorCode: 'card_declined',
  declineCode: 'generic_decline',
  claimedAt: '2026-12-01T10:00:00.000Z',
  completedAt: '2026-12-01T10:00:01.000Z',
  ...over,
});
const idle = { paying: false, declineCode: undefined };

describe('payView', () => {
  it('paid wins over everything, whichever request got there first', () => {
    const data = { order: order({ status: 'paid', paymentIntentId: 'pi_1' }), attempts: [], refunds: [] };
    expect(payView(data, { paying: true, declineCode: 'generic_decline' })).toEqual({
      kind: 'paid',
      paymentIntentId: 'pi_1',
    });
  });
  it('an unknown outcome is confirming and never offers to pay again', () => {
    for (const status of ['processing', 'requires_action'] as const) {
      expect(payView({ order: order({ status }), attempts: [], refunds: [] }, idle)).toEqual({ kind: 'confirming' });
    }
  });
  it('while this tab pays, the button says paying', () => {
    expect(payView({ order: order(), attempts: [], refunds: [] }, { paying: true, declineCode: undefined })).toEqual({
      kind: 'payable',
      paying: true,
      declineCode: null,
    });
  });
  it('a failed order shows the latest attempt’s decline, or this tab’s own', () => {
    const data = {
      order: order({ status: 'failed', version: 5 }),
      refunds: [],
      attempts: [
        attempt(2, { declineCode: 'expired_card' }),
        attempt(4, { declineCode: 'insufficient_funds' }),
      ],
    };
    expect(payView(data, idle)).toEqual({
      kind: 'payable',
      paying: false,
      declineCode: 'insufficient_funds',
    });
    expect(payView(data, { paying: false, declineCode: 'lost_card' })).toMatchObject({
      declineCode: 'lost_card',
    });
    const notADecline = {
      order: data.order,
      refunds: [],
      attempts: [attempt(2, { declineCode: null, errorCode: 'abandoned' })],
    };
    expect(payView(notADecline, idle)).toMatchObject({ declineCode: 'abandoned' });
  });
  it('a state that cannot be paid is closed', () => {
    expect(payView({ order: order({ status: 'canceled' }), attempts: [], refunds: [] }, idle)).toEqual({ kind: 'closed' });
  });
});

describe('polling and snapshots', () => {
  it('polls only while in flight, a quarter of the age, between 0.5 s and 8 s', () => {
    const t0 = Date.parse('2026-12-01T10:00:00.000Z');
    expect(pollDelayMs(order({ status: 'paid' }), t0)).toBe(false);
    expect(pollDelayMs(undefined, t0)).toBe(false);
    const inFlight = order({ status: 'processing' });
    expect(pollDelayMs(inFlight, t0 + 100)).toBe(500);
    expect(pollDelayMs(inFlight, t0 + 8_000)).toBe(2_000);
    expect(pollDelayMs(inFlight, t0 + 600_000)).toBe(8_000);
  });
  it('keeps the newer of two snapshots of one order', () => {
    const v2 = order({ version: 2, status: 'processing' });
    const v3 = order({ version: 3, status: 'paid' });
    expect(newerOrder(v2, v3)).toBe(v3);
    expect(newerOrder(v3, v2)).toBe(v3);
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
    const answer = (code: string, domainCode: string) =>
      TRPCClientError.from({
        error: { message: 'm', code: -32000, data: { code, domainCode, httpStatus: 409 } },
      });
    expect(describeError(answer('CONFLICT', 'IDEMPOTENCY_KEY_IN_USE'))).toMatch(/still being processed/);
    expect(describeError(answer('UNPROCESSABLE_CONTENT', 'IDEMPOTENCY_KEY_REUSED'))).toMatch(/other details/);
    expect(describeError(answer('CONFLICT', 'ORDER_NOT_PAYABLE'))).toMatch(/cannot be paid/);
  });
});
