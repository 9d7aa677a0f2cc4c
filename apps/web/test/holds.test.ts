import { describe, expect, it } from 'vitest';
import { declineInWords, isCardDecline } from '../src/errors';
import { chargedAmount, checkRefundAmount, offeredAction, refundableAmount } from '../src/order/actions';
import {
  announcement,
  attemptResult,
  chargedInWords,
  closedHeading,
  HOLD_HEADINGS,
  STATUS_LABELS,
} from '../src/order/status-text';
import {
  challengeRedirect,
  challengeUrl,
  isChallengeReturn,
  type OrderStatus,
  type PayAnswer,
  type PayView,
  payView,
  pollDelayMs,
} from '../src/order/view';
import { attempt, capture, data, order } from './fixtures';

/** 3-D Secure challenges and capture-later holds: what the order page shows and offers. */
const idle = { paying: false, declineCode: undefined };
const paying = { paying: true, declineCode: undefined };
const CHALLENGE = 'http://127.0.0.1:4242/_emulator/3ds/src_1';
const challenged = (over: Parameters<typeof attempt>[1] = {}) =>
  data(order({ status: 'requires_action', version: 2 }), {
    attempts: [
      attempt(1, {
        status: 'requires_action',
        paymentMethodId: 'pm_card_threeDSecure2Required',
        paymentIntentId: 'pi_1',
        errorCode: null,
        declineCode: null,
        actionUrl: CHALLENGE,
        completedAt: null,
        ...over,
      }),
    ],
  });

describe('what the page offers, per status', () => {
  /** Pay (the pay panel's button), and Cancel or Refund (the order actions). */
  const offers = (status: OrderStatus) => {
    const o = order({
      status,
      refundedAmount: status === 'partially_refunded' ? 1000 : status === 'refunded' ? 4200 : 0,
    });
    return { pay: payView(data(o), idle).kind === 'payable', other: offeredAction(o) };
  };
  it('Pay only while payable: never while a challenge, a hold, a capture or a release is open', () => {
    const table: Record<OrderStatus, ReturnType<typeof offers>> = {
      pending: { pay: true, other: 'cancel' },
      failed: { pay: true, other: 'cancel' },
      processing: { pay: false, other: null },
      requires_action: { pay: false, other: null },
      // The merchant captures or releases a hold; the customer can neither cancel nor refund it.
      authorized: { pay: false, other: null },
      capturing: { pay: false, other: null },
      voiding: { pay: false, other: null },
      paid: { pay: false, other: 'refund' },
      partially_refunded: { pay: false, other: 'refund' },
      refunded: { pay: false, other: null },
      canceled: { pay: false, other: null },
    };
    for (const [status, offer] of Object.entries(table)) {
      expect(offers(status as OrderStatus), status).toEqual(offer);
    }
  });
  it('a pay from this tab still in flight does not bring Pay back over a challenge or a hold', () => {
    expect(payView(challenged(), paying)).toEqual({ kind: 'challenge', actionUrl: CHALLENGE });
    for (const phase of ['authorized', 'capturing', 'voiding'] as const) {
      expect(payView(data(order({ status: phase, paymentIntentId: 'pi_1' })), paying)).toEqual({
        kind: 'authorized',
        phase,
        paymentIntentId: 'pi_1',
      });
    }
  });
  it('after a failed or abandoned challenge, or a lapsed hold, the order is payable again and says why', () => {
    const failed = (over: Parameters<typeof attempt>[1]) =>
      payView(data(order({ status: 'failed', version: 3 }), { attempts: [attempt(1, over)] }), idle);
    expect(failed({ declineCode: 'payment_intent_authentication_failure' })).toEqual({
      kind: 'payable',
      paying: false,
      declineCode: 'payment_intent_authentication_failure',
    });
    expect(failed({ declineCode: null, errorCode: 'canceled_abandoned' })).toMatchObject({
      declineCode: 'canceled_abandoned',
    });
    expect(failed({ status: 'canceled', declineCode: null, errorCode: 'canceled_automatic' })).toMatchObject({
      kind: 'payable',
      declineCode: 'canceled_automatic',
    });
  });
});

describe('refunds after a partial capture', () => {
  const captured = order({ status: 'paid', captureMethod: 'manual', capturedAmount: 3000 });
  it('are bounded by what was captured, not by the amount authorized', () => {
    expect(chargedAmount(captured)).toBe(3000);
    expect(refundableAmount(captured)).toBe(3000);
    expect(refundableAmount({ ...captured, status: 'partially_refunded', refundedAmount: 1000 })).toBe(2000);
    const check = checkRefundAmount('30.01', captured);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.message).toMatch(/At most \$30\.00 is left/);
    // Captured in full, or paid at once: the amount.
    expect(chargedAmount(order({ status: 'paid', capturedAmount: 4200 }))).toBe(4200);
    expect(chargedAmount(order({ status: 'paid' }))).toBe(4200);
  });
  it('show what was taken when it differs from the amount', () => {
    expect(chargedInWords(captured)).toBe(
      '$30.00 of the $42.00 authorized was charged, once; the rest was released.',
    );
    expect(chargedInWords(order({ status: 'paid', capturedAmount: 4200 }))).toBe('$42.00 was charged once.');
  });
});

describe('the challenge', () => {
  it('resumes at the attempt’s challenge page while it awaits the customer, and only then', () => {
    expect(challengeUrl(challenged())).toBe(CHALLENGE);
    expect(challengeUrl(challenged({ actionUrl: null }))).toBeNull();
    expect(challengeUrl(challenged({ status: 'failed' }))).toBeNull();
    expect(challengeUrl(data(order()))).toBeNull();
  });
  it('a pay answer sends the browser to the bank only for requires_action, only to an http(s) page', () => {
    const o = order({ status: 'requires_action' });
    const redirect = (redirectUrl: string | null): PayAnswer => ({
      outcome: 'requires_action',
      order: o,
      redirectUrl,
    });
    expect(challengeRedirect(redirect(CHALLENGE))).toBe(CHALLENGE);
    expect(challengeRedirect(redirect('https://hooks.stripe.com/3d_secure_2/x'))).toBe(
      'https://hooks.stripe.com/3d_secure_2/x',
    );
    for (const url of [null, 'javascript:alert(1)', 'data:text/html,x', 'not a url']) {
      expect(challengeRedirect(redirect(url)), String(url)).toBeNull();
    }
    expect(challengeUrl(challenged({ actionUrl: 'javascript:alert(1)' }))).toBeNull();
    expect(challengeRedirect({ outcome: 'charged', order: o, paymentIntentId: 'pi_1' })).toBeNull();
    expect(challengeRedirect({ outcome: 'authorized', order: o, paymentIntentId: 'pi_1' })).toBeNull();
  });
  it('knows the way back from the bank by Stripe’s query', () => {
    expect(
      isChallengeReturn('?payment_intent=pi_1&payment_intent_client_secret=s&redirect_status=failed'),
    ).toBe(true);
    expect(isChallengeReturn('?redirect_status=succeeded')).toBe(true);
    expect(isChallengeReturn('')).toBe(false);
    expect(isChallengeReturn('?tab=refunds')).toBe(false);
  });
});

describe('polling', () => {
  const t0 = Date.parse('2026-12-01T10:00:00.000Z');
  it('follows a challenge, a capture and a release; an open hold waits for the merchant unpolled', () => {
    for (const status of ['requires_action', 'capturing', 'voiding'] as const) {
      expect(pollDelayMs(data(order({ status })), t0 + 100), status).toBe(500);
    }
    expect(pollDelayMs(data(order({ status: 'authorized' })), t0 + 100)).toBe(false);
  });
});

describe('what the page says at each step', () => {
  const say = (view: PayView, status: OrderStatus, more: Parameters<typeof data>[1] = {}) =>
    announcement(view, data(order({ status }), more));
  it('names each step of a challenge and a hold', () => {
    expect(say({ kind: 'challenge', actionUrl: null }, 'requires_action')).toBe(
      'Confirm the payment with your bank.',
    );
    expect(HOLD_HEADINGS).toEqual({
      authorized: 'Authorized — will be charged when shipped',
      capturing: 'Capturing…',
      voiding: 'Releasing the authorization…',
    });
    for (const phase of ['authorized', 'capturing', 'voiding'] as const) {
      expect(say({ kind: 'authorized', phase, paymentIntentId: 'pi_1' }, phase)).toBe(HOLD_HEADINGS[phase]);
    }
    expect(say({ kind: 'payable', paying: false, declineCode: 'canceled_abandoned' }, 'failed')).toBe(
      'Payment failed: the check with your bank was not completed in time.',
    );
  });
  it('a hold the merchant released is "Authorization released", a canceled order "Canceled"', () => {
    const released = data(order({ status: 'canceled', captureMethod: 'manual' }), {
      captures: [capture('c1', { kind: 'void' })],
    });
    expect(closedHeading(released)).toBe('Authorization released');
    expect(announcement({ kind: 'closed' }, released)).toBe('Authorization released. Nothing was charged.');
    expect(closedHeading(data(order({ status: 'canceled' })))).toBe('Canceled');
    // A void that failed released nothing (the order was then captured or stayed authorized).
    const voidFailed = data(order({ status: 'canceled' }), {
      captures: [capture('c1', { kind: 'void', status: 'failed' })],
    });
    expect(closedHeading(voidFailed)).toBe('Canceled');
  });
  it('has a label for every status and every attempt result', () => {
    expect(STATUS_LABELS.requires_action).toBe('Awaiting your bank');
    expect(STATUS_LABELS.authorized).toBe('Authorized');
    expect(attemptResult(attempt(1, { status: 'authorized' }))).toBe('Authorized (funds held)');
    expect(
      attemptResult(attempt(1, { status: 'canceled', errorCode: 'canceled_requested_by_customer' })),
    ).toBe('Released');
    expect(attemptResult(attempt(1, { status: 'requires_action' }))).toBe('Awaiting your bank');
    expect(attemptResult(attempt(1))).toBe('Declined');
    expect(attemptResult(attempt(1, { declineCode: null, errorCode: 'canceled_abandoned' }))).toBe('Failed');
  });
});

describe('3-D Secure and hold failures in words', () => {
  it('a failed or abandoned check, and a released hold, are no card declines', () => {
    expect(isCardDecline('payment_intent_authentication_failure')).toBe(false);
    expect(declineInWords('payment_intent_authentication_failure')).toMatch(/could not confirm the payment/);
    expect(isCardDecline('canceled_abandoned')).toBe(false);
    expect(declineInWords('canceled_abandoned')).toBe('the check with your bank was not completed in time');
    expect(isCardDecline('canceled_automatic')).toBe(false);
    expect(declineInWords('canceled_automatic')).toBe(
      'the hold on the card was released before it was charged',
    );
    // Names of Object.prototype are no known codes.
    expect(declineInWords('toString')).toBe('the bank declined the card');
    expect(isCardDecline('constructor')).toBe(true);
  });
});
