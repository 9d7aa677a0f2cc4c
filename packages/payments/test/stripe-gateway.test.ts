import { type StripeEmulator, startStripeEmulator } from '@chargeonce/stripe-emulator';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createStripeClient } from '../src/stripe-client';
import { classifyStripeError, createStripeGateway, fromPaymentIntent } from '../src/stripe-gateway';
import { fromRefund } from '../src/stripe-refunds';

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
  it('says why an outcome is unknown: the error type with its status, or plain `error` for a non-Stripe one', () => {
    expect(classifyStripeError(new Stripe.errors.StripeConnectionError({ message: 'timeout' }))).toEqual({
      kind: 'unknown',
      reason: 'StripeConnectionError',
    });
    const failed = new Stripe.errors.StripeAPIError({ type: 'api_error', message: 'boom' });
    Object.assign(failed, { statusCode: 502 });
    expect(classifyStripeError(failed)).toEqual({ kind: 'unknown', reason: 'StripeAPIError_502' });
    expect(classifyStripeError(new Error('socket hang up'))).toEqual({ kind: 'unknown', reason: 'error' });
  });
  it('an error coded idempotency_key_in_use is an unknown outcome whatever its class and status', () => {
    // Stripe answers a request whose key is still executing with 409 and this code, as an
    // invalid_request_error; the code alone decides, so it is never taken for a rejection.
    const inUse = new Stripe.errors.StripeInvalidRequestError({
      type: 'invalid_request_error',
      code: 'idempotency_key_in_use',
      message: 'There is currently another in-progress request using this Idempotent Key',
    });
    expect(classifyStripeError(inUse)).toEqual({ kind: 'unknown', reason: 'idempotency_key_in_use' });
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

describe('classifyStripeError, on errors missing their details', () => {
  it('a card error without codes is a generic decline; a 409 without a code is an unknown outcome', () => {
    const bare = new Stripe.errors.StripeCardError({ type: 'card_error', message: 'declined' });
    expect(classifyStripeError(bare)).toEqual({
      kind: 'declined',
      paymentIntentId: null,
      code: 'card_declined',
      declineCode: 'generic_decline',
      message: 'declined',
    });
    // A card error other than card_declined: Stripe sends no decline_code, the SDK makes it ''.
    const cvc = new Stripe.errors.StripeCardError({
      type: 'card_error',
      code: 'incorrect_cvc',
      message: 'cvc',
    });
    expect(classifyStripeError(cvc)).toMatchObject({ code: 'incorrect_cvc', declineCode: 'incorrect_cvc' });
    const conflict = new Stripe.errors.StripeAPIError({ type: 'api_error', message: 'conflict' });
    Object.assign(conflict, { statusCode: 409 });
    expect(classifyStripeError(conflict)).toEqual({ kind: 'unknown', reason: 'idempotency_error' });
    const invalid = new Stripe.errors.StripeInvalidRequestError({
      type: 'invalid_request_error',
      message: 'no',
    });
    expect(classifyStripeError(invalid)).toMatchObject({
      kind: 'rejected',
      code: 'StripeInvalidRequestError',
    });
  });
});

describe('Stripe objects as our results', () => {
  const intent = (fields: Partial<Stripe.PaymentIntent>) =>
    ({
      id: 'pi_map',
      amount: 500,
      amount_received: 0,
      amount_capturable: 0,
      ...fields,
    }) as Stripe.PaymentIntent;

  it('a PaymentIntent not final yet, or in a status this build does not know, is unknown with its id', () => {
    for (const status of ['processing', 'requires_confirmation', 'requires_something_new'])
      expect(fromPaymentIntent(intent({ status: status as Stripe.PaymentIntent.Status }))).toEqual({
        kind: 'unknown',
        reason: `payment_intent_${status}`,
        paymentIntentId: 'pi_map',
      });
  });

  it('fills what Stripe left out: no redirect, no cancellation reason, no last error', () => {
    expect(fromPaymentIntent(intent({ status: 'requires_action', next_action: null }))).toEqual({
      kind: 'requires_action',
      paymentIntentId: 'pi_map',
      redirectUrl: null,
    });
    expect(fromPaymentIntent(intent({ status: 'canceled', cancellation_reason: null }))).toEqual({
      kind: 'canceled',
      paymentIntentId: 'pi_map',
      reason: 'canceled',
    });
    expect(
      fromPaymentIntent(intent({ status: 'requires_payment_method', last_payment_error: null })),
    ).toEqual({
      kind: 'declined',
      paymentIntentId: 'pi_map',
      code: 'requires_payment_method',
      declineCode: 'requires_payment_method',
      message: '',
    });
  });

  it('a refund canceled without a failure reason failed as canceled; one awaiting action is pending', () => {
    const refund = (fields: Partial<Stripe.Refund>) => ({ id: 're_map', ...fields }) as Stripe.Refund;
    expect(fromRefund(refund({ status: 'canceled', failure_reason: undefined }))).toEqual({
      kind: 'failed',
      refundId: 're_map',
      reason: 'canceled',
    });
    expect(
      fromRefund(refund({ status: 'failed', failure_reason: 'expired_or_canceled_card' })),
    ).toMatchObject({
      reason: 'expired_or_canceled_card',
    });
    expect(fromRefund(refund({ status: 'requires_action' }))).toEqual({
      kind: 'pending',
      refundId: 're_map',
    });
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
  /** The gateway with the SDK retrying `maxNetworkRetries` times (0: a failed try is the answer). */
  const retrying = (maxNetworkRetries: number) =>
    createStripeGateway({ secretKey: 'sk_test_gateway', apiBase: emulator.url, maxNetworkRetries });
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

  it('a capture and a cancel carry their key: repeated, each replays its first answer', async () => {
    const gw = gateway();
    const held = async (key: string) => {
      const result = await gw.charge({ ...request('pm_card_visa', key), captureMethod: 'manual' });
      expect(result.kind).toBe('authorized');
      return (result as { paymentIntentId: string }).paymentIntentId;
    };
    const captured = await held('gw-key-hold-1');
    const capture = { paymentIntentId: captured, idempotencyKey: 'gw-capture-1', amount: 400 };
    const first = await gw.capture(capture);
    expect(first).toMatchObject({ kind: 'succeeded', amountReceived: 400 });
    // Without the key the repeat would be a second capture, refused (already captured).
    expect(await gw.capture(capture)).toEqual(first);
    const released = await held('gw-key-hold-2');
    const cancel = {
      paymentIntentId: released,
      idempotencyKey: 'gw-cancel-1',
      reason: 'requested_by_customer' as const,
    };
    const canceled = await gw.cancel(cancel);
    expect(canceled).toMatchObject({ kind: 'canceled', reason: 'requested_by_customer' });
    expect(await gw.cancel(cancel)).toEqual(canceled);
  });

  it('lists and finds PaymentIntents within their windows, and by their attempt', async () => {
    const gw = gateway();
    const attemptId = 'a7a7a7a7-0000-4000-8000-00000000feed';
    const made = await gw.charge({
      ...request('pm_card_visa', 'gw-key-find'),
      metadata: { attempt_id: attemptId },
    });
    const id = (made as { paymentIntentId: string }).paymentIntentId;
    const now = Math.floor(Date.now() / 1000);
    const listed = async (window: { from: number; to: number }) => {
      const ids: string[] = [];
      for await (const pi of gw.listPaymentIntents(window)) ids.push(pi.id);
      return ids;
    };
    expect(await listed({ from: now - 60, to: now + 60 })).toContain(id);
    expect(await listed({ from: now - 7200, to: now - 3600 })).not.toContain(id);
    expect(await gw.findByAttempt(attemptId)).toMatchObject({ kind: 'succeeded', paymentIntentId: id });
    expect(
      await gw.findByAttempt(attemptId, { consistentSince: new Date(Date.now() - 60_000) }),
    ).toMatchObject({
      kind: 'succeeded',
      paymentIntentId: id,
    });
    // Listed from after it was created: not there.
    expect(await gw.findByAttempt(attemptId, { consistentSince: new Date(Date.now() + 60_000) })).toEqual({
      kind: 'not_found',
    });
    expect(await gw.findByAttempt('a7a7a7a7-0000-4000-8000-000000000000')).toEqual({ kind: 'not_found' });
  });

  it('finds the success among PaymentIntents of one attempt, whichever came first, by search and by listing', async () => {
    const gw = gateway();
    const attemptId = 'a7a7a7a7-0000-4000-8000-00000000f00d';
    const charged = async (paymentMethodId: string, key: string) =>
      gw.charge({ ...request(paymentMethodId, key), metadata: { attempt_id: attemptId } });
    const paid = await charged('pm_card_visa', 'gw-key-twice-1');
    expect(paid.kind).toBe('succeeded');
    // A later PaymentIntent of the same attempt (another key) that declined: newest, so listed first.
    expect((await charged('pm_card_chargeDeclined', 'gw-key-twice-2')).kind).toBe('declined');
    const id = (paid as { paymentIntentId: string }).paymentIntentId;
    expect(await gw.findByAttempt(attemptId)).toMatchObject({ kind: 'succeeded', paymentIntentId: id });
    expect(
      await gw.findByAttempt(attemptId, { consistentSince: new Date(Date.now() - 60_000) }),
    ).toMatchObject({ kind: 'succeeded', paymentIntentId: id });
  });

  it('an attempt id with a quote or a backslash is searched for exactly, not cut out of the query', async () => {
    const gw = gateway();
    const odd = "it's\\odd";
    const made = await gw.charge({ ...request('pm_card_visa', 'gw-key-odd'), metadata: { attempt_id: odd } });
    expect(made.kind).toBe('succeeded');
    const other = await gw.charge({
      ...request('pm_card_visa', 'gw-key-odd-2'),
      metadata: { attempt_id: 'its' },
    });
    expect(other.kind).toBe('succeeded');
    expect(await gw.findByAttempt(odd)).toMatchObject({
      kind: 'succeeded',
      paymentIntentId: (made as { paymentIntentId: string }).paymentIntentId,
    });
    expect(await gw.findByAttempt("it's")).toEqual({ kind: 'not_found' });
  });

  it('a search that fails is unknown: its own reason when the failure was already unknown, else saying the lookup', async () => {
    const once = retrying(0);
    emulator.setFaults([{ operation: 'payment_intents.search', fault: 'error_before' }]);
    try {
      expect(await once.findByAttempt('a7a7a7a7-0000-4000-8000-00000000beef')).toEqual({
        kind: 'unknown',
        reason: 'StripeAPIError_500',
      });
    } finally {
      emulator.clearFaults();
    }
    const revoked = createStripeGateway({ secretKey: 'sk_live_revoked', apiBase: emulator.url });
    expect(await revoked.findByAttempt('a7a7a7a7-0000-4000-8000-00000000beef')).toEqual({
      kind: 'unknown',
      reason: 'lookup_unavailable',
    });
  });

  it('a pay without a return URL allows no redirect; with one, the customer may be redirected', async () => {
    const gw = gateway();
    const stripe = createStripeClient({ secretKey: 'sk_test_gateway', apiBase: emulator.url });
    const asked = async (key: string, returnUrl: string | null) => {
      const made = await gw.charge({ ...request('pm_card_visa', key), returnUrl });
      const intent = await stripe.paymentIntents.retrieve(
        (made as { paymentIntentId: string }).paymentIntentId,
      );
      return intent.automatic_payment_methods;
    };
    expect(await asked('gw-key-no-return', null)).toEqual({ enabled: true, allow_redirects: 'never' });
    expect(await asked('gw-key-return', 'https://shop.example/return')).toEqual({
      enabled: true,
      allow_redirects: 'always',
    });
  });

  it('a charge refused for our key after one of the SDK’s retries is unknown (the first try may have executed)', async () => {
    // The key is rolled and expires between the two tries of one call.
    const rolled = 'sk_test_gateway_rolled_mid_call';
    const gw = createStripeGateway({ secretKey: rolled, apiBase: emulator.url, maxNetworkRetries: 1 });
    emulator.setFaults([{ operation: 'payment_intents.create', fault: 'error_before', times: 1 }]);
    const before = emulator.faultsApplied();
    try {
      const answer = gw.charge(request('pm_card_visa', 'gw-key-rolled'));
      // The SDK waits at least half a second before its retry.
      await vi.waitFor(() => expect(emulator.faultsApplied()).toBe(before + 1), {
        interval: 5,
        timeout: 10_000,
      });
      emulator.expireApiKey(rolled);
      expect(await answer).toEqual({ kind: 'unknown', reason: 'StripeAuthenticationError_after_retry' });
    } finally {
      emulator.clearFaults();
    }
  });

  it('a PaymentIntent that cannot be read is unknown, saying which call', async () => {
    const once = retrying(0);
    expect(await once.retrieve('pi_no_such_intent')).toEqual({
      kind: 'unknown',
      reason: 'retrieve_rejected',
    });
  });

  it('a refund that cannot be read, or listed, is unknown (never a failure), saying which call', async () => {
    const once = retrying(0);
    expect(await once.retrieveRefund('re_no_such_refund')).toEqual({
      kind: 'unknown',
      reason: 'retrieve_rejected',
    });
    emulator.setFaults([{ operation: 'refunds.list', fault: 'error_before' }]);
    try {
      expect(await once.listRefunds('pi_any')).toEqual({ kind: 'unknown', reason: 'list_unknown' });
    } finally {
      emulator.clearFaults();
    }
  });

  it('a refund refused after one of the SDK’s retries is unknown (an earlier try may have executed); on the first, rejected', async () => {
    const retryingOnce = retrying(1);
    const made = await retryingOnce.charge(request('pm_card_visa', 'gw-key-refund-retry'));
    const paymentIntentId = (made as { paymentIntentId: string }).paymentIntentId;
    // More than was charged: refused (400) whenever it gets to execute.
    const tooMuch = (idempotencyKey: string) =>
      retryingOnce.refund({ paymentIntentId, amount: 5_000, reason: null, idempotencyKey, metadata: {} });
    emulator.setFaults([{ operation: 'refunds.create', fault: 'error_before', times: 1 }]);
    try {
      expect(await tooMuch('gw-refund-retried')).toEqual({ kind: 'unknown', reason: 'rejected_after_retry' });
    } finally {
      emulator.clearFaults();
    }
    expect(await tooMuch('gw-refund-first')).toMatchObject({ kind: 'rejected' });
  });

  it('a refund refused for our credentials is unavailable (nothing executed), never unknown, and names no key', async () => {
    const made = await gateway().charge(request('pm_card_visa', 'gw-key-refund-credentials'));
    expect(made.kind).toBe('succeeded');
    const paymentIntentId = (made as { paymentIntentId: string }).paymentIntentId;
    const revoked = createStripeGateway({ secretKey: 'sk_live_revoked', apiBase: emulator.url });
    const answer = await revoked.refund({
      paymentIntentId,
      amount: 100,
      reason: null,
      idempotencyKey: 'gw-refund-credentials',
      metadata: {},
    });
    expect(answer).toEqual({ kind: 'unavailable', reason: 'StripeAuthenticationError' });
  });

  it('a refund passes its reason on to Stripe; without one, Stripe records none', async () => {
    const made = await gateway().charge(request('pm_card_visa', 'gw-key-refund-reason'));
    const paymentIntentId = (made as { paymentIntentId: string }).paymentIntentId;
    const refund = (reason: string | null, idempotencyKey: string) =>
      gateway().refund({ paymentIntentId, amount: 100, reason, idempotencyKey, metadata: {} });
    const given = await refund('requested_by_customer', 'gw-refund-reason');
    const none = await refund(null, 'gw-refund-no-reason');
    const reasonOf = (answer: { kind: string }) =>
      emulator.refunds().find((r) => r.id === (answer as { refundId?: string }).refundId)?.reason;
    expect(reasonOf(given)).toBe('requested_by_customer');
    expect(reasonOf(none)).toBeNull();
  });

  it('a refund that failed after a 5xx retry keeps its own unknown reason; refused for our key after one, it is unknown', async () => {
    const made = await gateway().charge(request('pm_card_visa', 'gw-key-refund-retry-reasons'));
    const paymentIntentId = (made as { paymentIntentId: string }).paymentIntentId;
    const refund = (client: ReturnType<typeof gateway>, idempotencyKey: string) =>
      client.refund({ paymentIntentId, amount: 100, reason: null, idempotencyKey, metadata: {} });
    emulator.setFaults([{ operation: 'refunds.create', fault: 'error_before', times: 2 }]);
    try {
      // Both tries answered 500: unknown for the 5xx, not for "after a retry".
      expect(await refund(retrying(1), 'gw-refund-5xx-twice')).toEqual({
        kind: 'unknown',
        reason: 'StripeAPIError_500',
      });
    } finally {
      emulator.clearFaults();
    }
    // The first try answered 500, the retry was refused for the key: the first may have executed.
    const key = 'sk_test_gateway_expiring';
    const expiring = createStripeGateway({ secretKey: key, apiBase: emulator.url, maxNetworkRetries: 1 });
    emulator.setFaults([{ operation: 'refunds.create', fault: 'error_before', times: 1 }]);
    const before = emulator.faultsApplied();
    try {
      const answer = refund(expiring, 'gw-refund-5xx-then-401');
      // As for the charge above: the SDK waits at least half a second before its retry.
      await vi.waitFor(() => expect(emulator.faultsApplied()).toBe(before + 1), {
        interval: 5,
        timeout: 10_000,
      });
      emulator.expireApiKey(key);
      expect(await answer).toEqual({ kind: 'unknown', reason: 'unavailable_after_retry' });
    } finally {
      emulator.clearFaults();
    }
  });

  it('a refund that cannot be read for a 5xx is unknown with that reason; a failed refund is listed as failed', async () => {
    emulator.setFaults([{ operation: 'refunds.retrieve', fault: 'error_before', times: 1 }]);
    try {
      expect(await retrying(0).retrieveRefund('re_any')).toEqual({
        kind: 'unknown',
        reason: 'StripeAPIError_500',
      });
    } finally {
      emulator.clearFaults();
    }
    const made = await gateway().charge(request('pm_card_refundFail', 'gw-key-refund-fails'));
    const paymentIntentId = (made as { paymentIntentId: string }).paymentIntentId;
    emulator.setRefundDelay(0);
    try {
      await gateway().refund({
        paymentIntentId,
        amount: 100,
        reason: null,
        idempotencyKey: 'gw-refund-fails',
        metadata: {},
      });
    } finally {
      emulator.setRefundDelay(1_000);
    }
    await vi.waitFor(() =>
      expect(emulator.refunds().find((r) => r.payment_intent === paymentIntentId)?.status).toBe('failed'),
    );
    expect(await gateway().listRefunds(paymentIntentId)).toMatchObject([
      { status: 'failed', amount: 100, failureReason: 'expired_or_canceled_card' },
    ]);
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
