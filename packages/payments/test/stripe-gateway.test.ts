import { type StripeEmulator, startStripeEmulator } from '@chargeonce/stripe-emulator';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyStripeError, createStripeGateway } from '../src/stripe-gateway';

describe('classifyStripeError', () => {
  it('card errors are declines with their decline code', () => {
    const err = new Stripe.errors.StripeCardError({
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'insufficient_funds',
      message: 'Your card has insufficient funds.',
    });
    expect(classifyStripeError(err)).toMatchObject({ kind: 'declined', declineCode: 'insufficient_funds' });
  });
  it('connection errors, 5xx and idempotency conflicts are unknown outcomes, never failures', () => {
    const cases = [
      new Stripe.errors.StripeConnectionError({ type: 'api_error', message: 'timeout' }),
      new Stripe.errors.StripeAPIError({ type: 'api_error', message: 'boom' }),
      new Stripe.errors.StripeIdempotencyError({ type: 'idempotency_error', code: 'idempotency_key_in_use' }),
      new Stripe.errors.StripeRateLimitError({ type: 'rate_limit_error', message: 'slow down' }),
      new Error('socket hang up'),
    ];
    for (const err of cases) expect(classifyStripeError(err).kind).toBe('unknown');
  });
  it('a refused API key is an outage on our side, and its message (naming the key) is dropped', () => {
    const err = new Stripe.errors.StripeAuthenticationError({
      type: 'invalid_request_error',
      message: 'Invalid API Key provided: sk_live_****abcd',
    });
    expect(classifyStripeError(err)).toEqual({ kind: 'unavailable', reason: 'StripeAuthenticationError' });
  });
  it('invalid requests are rejected before execution', () => {
    const err = new Stripe.errors.StripeInvalidRequestError({
      type: 'invalid_request_error',
      code: 'resource_missing',
      message: 'No such PaymentMethod',
    });
    expect(classifyStripeError(err)).toMatchObject({ kind: 'rejected', code: 'resource_missing' });
  });
});

describe('createStripeGateway against the emulator', () => {
  let emulator: StripeEmulator;
  beforeAll(async () => {
    emulator = await startStripeEmulator();
  });
  afterAll(async () => {
    await emulator?.close();
  });
  const gateway = () => createStripeGateway({ secretKey: 'sk_test_gateway', apiBase: emulator.url });
  const request = (paymentMethodId: string, idempotencyKey: string) => ({
    amount: 1000,
    currency: 'usd',
    paymentMethodId,
    idempotencyKey,
    metadata: { order_id: idempotencyKey },
    captureMethod: 'automatic' as const,
    returnUrl: null,
  });

  it('charges once per idempotency key, however often it is called', async () => {
    const first = await gateway().charge(request('pm_card_visa', 'gw-key-1'));
    const second = await gateway().charge(request('pm_card_visa', 'gw-key-1'));
    expect(first.kind).toBe('succeeded');
    expect(second).toEqual(first);
    expect(emulator.paymentIntents().filter((pi) => pi.metadata.order_id === 'gw-key-1')).toHaveLength(1);
  });

  it('maps declines and insufficient funds', async () => {
    expect(await gateway().charge(request('pm_card_chargeDeclined', 'gw-key-2'))).toMatchObject({
      kind: 'declined',
      code: 'card_declined',
    });
    expect(
      await gateway().charge(request('pm_card_chargeDeclinedInsufficientFunds', 'gw-key-3')),
    ).toMatchObject({
      kind: 'declined',
      declineCode: 'insufficient_funds',
    });
  });

  it('a timeout is an unknown outcome', async () => {
    emulator.setLatency(1_000);
    try {
      const slow = createStripeGateway({
        secretKey: 'sk_test_gateway',
        apiBase: emulator.url,
        timeoutMs: 100,
        maxNetworkRetries: 0,
      });
      expect((await slow.charge(request('pm_card_visa', 'gw-key-4'))).kind).toBe('unknown');
    } finally {
      emulator.setLatency(0);
    }
  });
});
