import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { createWebhookVerifier, WEBHOOK_TOLERANCE_SECONDS } from '../src/stripe-webhooks';

/**
 * The webhook verifier on its own: what it refuses before anything may be applied, and the facts it
 * takes from each kind of object Stripe sends. Signed with the SDK's own test header.
 */
const SECRET = 'whsec_unit_test';
const NOW_MS = 1_800_000_000_000;
const stripe = new Stripe('sk_test_unused', { telemetry: false });
const verify = createWebhookVerifier(SECRET, () => NOW_MS);

function signed(object: Record<string, unknown>, timestamp = NOW_MS / 1000) {
  const payload = JSON.stringify({ id: 'evt_unit', object: 'event', type: 'x.updated', data: { object } });
  return {
    payload,
    header: stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp }),
  };
}

describe('createWebhookVerifier', () => {
  it('refuses a missing signature, one signed too far in the future, and a bad one', () => {
    const { payload, header } = signed({ id: 'pi_1', object: 'payment_intent' });
    expect(() => verify(payload, undefined)).toThrow('missing Stripe-Signature header');
    expect(() => verify(payload, '')).toThrow('missing Stripe-Signature header');
    const future = signed(
      { id: 'pi_1', object: 'payment_intent' },
      NOW_MS / 1000 + WEBHOOK_TOLERANCE_SECONDS + 1,
    );
    expect(() => verify(future.payload, future.header)).toThrow('signature timestamp out of range');
    const edge = signed({ id: 'pi_1', object: 'payment_intent' }, NOW_MS / 1000 + WEBHOOK_TOLERANCE_SECONDS);
    expect(verify(edge.payload, edge.header).paymentIntentId).toBe('pi_1');
    expect(() => verify(payload.replace('pi_1', 'pi_2'), header)).toThrow();
  });

  it('takes the PaymentIntent of a payment_intent, a refund (id or expanded) and a charge, and nothing of others', () => {
    const facts = (object: Record<string, unknown>) => {
      const { payload, header } = signed(object);
      return verify(payload, header);
    };
    expect(facts({ id: 'pi_1', object: 'payment_intent', metadata: { order_id: 'o' } })).toEqual({
      id: 'evt_unit',
      type: 'x.updated',
      paymentIntentId: 'pi_1',
      metadata: { order_id: 'o' },
    });
    expect(
      facts({ id: 're_1', object: 'refund', payment_intent: 'pi_2', metadata: { refund_id: 'r' } }),
    ).toEqual({
      id: 'evt_unit',
      type: 'x.updated',
      paymentIntentId: 'pi_2',
      refundId: 're_1',
      metadata: { refund_id: 'r' },
    });
    expect(facts({ id: 're_2', object: 'refund', payment_intent: { id: 'pi_3' } })).toMatchObject({
      paymentIntentId: 'pi_3',
      refundId: 're_2',
      metadata: {},
    });
    expect(
      facts({ id: 'ch_2', object: 'charge', payment_intent: 'pi_4', metadata: { order_id: 'o2' } }),
    ).toEqual({
      id: 'evt_unit',
      type: 'x.updated',
      paymentIntentId: 'pi_4',
      metadata: { order_id: 'o2' },
    });
    expect(facts({ id: 'ch_1', object: 'charge', payment_intent: null, metadata: 'not an object' })).toEqual({
      id: 'evt_unit',
      type: 'x.updated',
      paymentIntentId: null,
      metadata: {},
    });
    expect(facts({ id: 'cus_1', object: 'customer', metadata: { a: 'b' } })).toEqual({
      id: 'evt_unit',
      type: 'x.updated',
      paymentIntentId: null,
      metadata: {},
    });
    expect(facts({ id: 7, object: 'payment_intent' }).paymentIntentId).toBeNull();
  });
});
