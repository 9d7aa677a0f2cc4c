import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { raw, rejectionOf } from './helpers';
import { type ReceivingEnv, useReceivingEmulator } from './receiver';

const SECRET = 'whsec_test_three_d_secure_0123456789';
const RETURN_URL = 'https://shop.example/orders/ord_3ds/return?step=pay';
let emulator: StripeEmulator;
let stripe: Stripe;
let deliveredEvents: ReceivingEnv['delivered'];

useReceivingEmulator(SECRET, (env) => ({ emulator, stripe, delivered: deliveredEvents } = env));

const charge = (overrides: Partial<Stripe.PaymentIntentCreateParams> = {}) =>
  stripe.paymentIntents.create({
    amount: 4200,
    currency: 'usd',
    payment_method: 'pm_card_threeDSecure2Required',
    confirm: true,
    return_url: RETURN_URL,
    metadata: { order_id: 'ord_3ds' },
    ...overrides,
  });

/** The challenge URL of a PaymentIntent waiting for 3D Secure, whichever `next_action` it has. */
function challengeUrl(pi: Stripe.PaymentIntent): string {
  const action = pi.next_action;
  const url = action?.redirect_to_url?.url ?? action?.use_stripe_sdk?.stripe_js;
  if (typeof url !== 'string') throw new Error(`no challenge in ${JSON.stringify(action)}`);
  return url;
}

/** Submits one of the page's forms as a browser would, without following the redirect. */
async function submit(pageUrl: string, button: 'Complete' | 'Fail') {
  const html = await (await fetch(pageUrl)).text();
  const action = new RegExp(`action="([^"]+)">\\s*<button type="submit"[^>]*>${button}<`).exec(html)?.[1];
  if (!action) throw new Error(`no ${button} form in ${html}`);
  const res = await fetch(new URL(action, pageUrl), { method: 'POST', redirect: 'manual' });
  return { status: res.status, location: res.headers.get('location'), html: await res.text() };
}

/** The types of the events the receiver got, once every delivery is done. */
async function delivered(): Promise<string[]> {
  return (await deliveredEvents()).map((e) => e.type);
}

describe('confirming a card that requires 3D Secure', () => {
  it('with return_url: requires_action and a redirect_to_url naming the challenge page', async () => {
    const pi = await charge();
    expect(pi).toMatchObject({
      status: 'requires_action',
      amount_received: 0,
      latest_charge: null,
      last_payment_error: null,
      payment_method: 'pm_card_threeDSecure2Required',
      next_action: {
        type: 'redirect_to_url',
        redirect_to_url: {
          url: expect.stringMatching(/\/_emulator\/3ds\/src_[A-Za-z0-9]{24}$/),
          return_url: RETURN_URL,
        },
      },
    });
    expect(challengeUrl(pi).startsWith(`${emulator.url}/_emulator/3ds/`)).toBe(true);
    expect(await delivered()).toEqual(['payment_intent.created', 'payment_intent.requires_action']);
    expect((await stripe.paymentIntents.retrieve(pi.id)).next_action).toEqual(pi.next_action);
  });

  it('without return_url: next_action use_stripe_sdk, whose page works without a redirect', async () => {
    const pi = await charge({ payment_method: 'pm_card_authenticationRequired', return_url: undefined });
    expect(pi.status).toBe('requires_action');
    expect(pi.next_action).toEqual({
      type: 'use_stripe_sdk',
      use_stripe_sdk: {
        source: expect.stringMatching(/^src_/),
        stripe_js: expect.stringContaining('/_emulator/3ds/src_'),
        type: 'three_d_secure_redirect',
      },
    });
    const done = await submit(challengeUrl(pi), 'Complete');
    expect(done).toMatchObject({ status: 200, location: null });
    expect(done.html).toContain('Authentication completed.');
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
  });

  it("error_on_requires_action or off_session: Stripe's authentication_required card error", async () => {
    for (const overrides of [{ error_on_requires_action: true }, { off_session: true }]) {
      const err = await rejectionOf(charge(overrides));
      expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
      expect(err).toMatchObject({
        statusCode: 402,
        code: 'authentication_required',
        decline_code: 'authentication_required',
        message: 'Your card was declined. This transaction requires authentication.',
      });
      expect(err.payment_intent).toMatchObject({ status: 'requires_payment_method', next_action: null });
      expect(err.charge).toMatch(/^ch_/);
    }
    expect(await delivered()).toEqual([
      'payment_intent.created',
      'payment_intent.payment_failed',
      'payment_intent.created',
      'payment_intent.payment_failed',
    ]);
  });

  it('pm_card_threeDSecureOptional asks only when the PaymentIntent requests 3D Secure', async () => {
    const plain = await charge({ payment_method: 'pm_card_threeDSecureOptional' });
    expect(plain).toMatchObject({ status: 'succeeded', next_action: null });
    const requested = await charge({
      payment_method: 'pm_card_threeDSecureOptional',
      payment_method_options: { card: { request_three_d_secure: 'any' } },
    });
    expect(requested).toMatchObject({
      status: 'requires_action',
      payment_method_options: { card: { request_three_d_secure: 'any' } },
    });
    expect((await charge({ payment_method: 'pm_card_visa' })).status).toBe('succeeded');
  });
});

describe('the challenge page', () => {
  it('shows the amount and accessible Complete and Fail forms', async () => {
    const pi = await charge();
    const res = await fetch(challengeUrl(pi));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(html).toContain('<title>3D Secure 2 Test Page</title>');
    expect(html).toContain('$42.00 USD');
    expect(html).toContain('visa ending in 3220');
    expect(html).toContain(pi.id);
    for (const [verb, label] of [
      ['complete', 'Complete'],
      ['fail', 'Fail'],
    ]) {
      expect(html).toMatch(
        new RegExp(
          `<form method="post" action="/_emulator/3ds/src_\\w+/${verb}">\\s*<button type="submit" aria-describedby="${verb}-help">${label}</button>`,
        ),
      );
      expect(html).toContain(`<p id="${verb}-help">`);
    }
    const missing = await fetch(`${emulator.url}/_emulator/3ds/src_nope`);
    expect(missing.status).toBe(404);
  });

  it("Complete: succeeded, events, and a 303 to return_url with Stripe's query; again does nothing", async () => {
    const pi = await charge();
    const done = await submit(challengeUrl(pi), 'Complete');
    expect(done.status).toBe(303);
    const back = new URL(done.location ?? '');
    expect(`${back.origin}${back.pathname}`).toBe('https://shop.example/orders/ord_3ds/return');
    expect(Object.fromEntries(back.searchParams)).toEqual({
      step: 'pay',
      payment_intent: pi.id,
      payment_intent_client_secret: pi.client_secret,
      redirect_status: 'succeeded',
    });
    const paid = await stripe.paymentIntents.retrieve(pi.id);
    expect(paid).toMatchObject({ status: 'succeeded', amount_received: 4200, next_action: null });
    expect(paid.latest_charge).toMatch(/^ch_/);
    const types = ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.succeeded'];
    expect(await delivered()).toEqual(types);
    const succeeded = emulator.events().at(-1);
    expect(succeeded?.request).toEqual({ id: null, idempotency_key: null });

    // A second submit (from a page still open), of either button, changes nothing and redirects
    // the same way.
    for (const verb of ['complete', 'fail']) {
      const again = await fetch(`${challengeUrl(pi)}/${verb}`, { method: 'POST', redirect: 'manual' });
      expect(again.status).toBe(303);
      expect(again.headers.get('location')).toBe(done.location);
    }
    expect(await stripe.paymentIntents.retrieve(pi.id)).toEqual(paid);
    expect(emulator.events().map((e) => e.type)).toEqual(types);
    expect(await (await fetch(challengeUrl(pi))).text()).toContain('Authentication completed.');
  });

  it('Fail: requires_payment_method with payment_intent_authentication_failure, then a new card pays', async () => {
    const pi = await charge();
    const failed = await submit(challengeUrl(pi), 'Fail');
    expect(failed.status).toBe(303);
    expect(new URL(failed.location ?? '').searchParams.get('redirect_status')).toBe('failed');
    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after).toMatchObject({
      status: 'requires_payment_method',
      payment_method: null,
      next_action: null,
    });
    expect(after.last_payment_error).toMatchObject({
      type: 'invalid_request_error',
      code: 'payment_intent_authentication_failure',
      doc_url: 'https://stripe.com/docs/error-codes/payment-intent-authentication-failure',
      message: expect.stringContaining('The provided PaymentMethod has failed authentication.'),
      payment_method: { id: 'pm_card_threeDSecure2Required', card: { last4: '3220' } },
    });
    expect(emulator.paymentIntents()[0]?.last_payment_error?.code).toBe(
      'payment_intent_authentication_failure',
    );
    const retried = await stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' });
    expect(retried).toMatchObject({ status: 'succeeded', last_payment_error: null });
    expect(await delivered()).toEqual([
      'payment_intent.created',
      'payment_intent.requires_action',
      'payment_intent.payment_failed',
      'payment_intent.succeeded',
    ]);
  });

  it('Complete with manual capture: requires_capture; a card that then declines: failed', async () => {
    const held = await charge({ capture_method: 'manual' });
    const done = await submit(challengeUrl(held), 'Complete');
    expect(new URL(done.location ?? '').searchParams.get('redirect_status')).toBe('succeeded');
    const authorized = await stripe.paymentIntents.retrieve(held.id);
    expect(authorized).toMatchObject({ status: 'requires_capture', amount_capturable: 4200 });
    await stripe.paymentIntents.capture(held.id);

    const declining = await charge({ payment_method: 'pm_card_threeDSecureRequiredChargeDeclined' });
    const declined = await submit(challengeUrl(declining), 'Complete');
    expect(new URL(declined.location ?? '').searchParams.get('redirect_status')).toBe('failed');
    expect((await stripe.paymentIntents.retrieve(declining.id)).last_payment_error).toMatchObject({
      type: 'card_error',
      code: 'card_declined',
    });
    expect(await delivered()).toContain('payment_intent.amount_capturable_updated');
  });

  it('with confirmation_method manual: requires_confirmation, then the server confirms and it pays', async () => {
    const pi = await charge({ confirmation_method: 'manual' });
    await submit(challengeUrl(pi), 'Complete');
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('requires_confirmation');
    expect((await stripe.paymentIntents.confirm(pi.id)).status).toBe('succeeded');
  });

  it('a challenge superseded by a new confirmation or a cancel no longer settles anything', async () => {
    const pi = await charge();
    const first = challengeUrl(pi);
    const again = await stripe.paymentIntents.confirm(pi.id, { return_url: RETURN_URL });
    expect(challengeUrl(again)).not.toBe(first);
    const stale = await submit(first, 'Complete').catch(() => null);
    expect(stale).toBeNull(); // the stale page has no forms left
    const post = await fetch(`${first}/complete`, { method: 'POST', redirect: 'manual' });
    expect(post.status).toBe(303);
    expect(new URL(post.headers.get('location') ?? '').searchParams.get('redirect_status')).toBe('failed');
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('requires_action');

    const canceled = await stripe.paymentIntents.cancel(pi.id);
    expect(canceled).toMatchObject({ status: 'canceled', next_action: null });
    await fetch(`${challengeUrl(again)}/complete`, { method: 'POST', redirect: 'manual' });
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('canceled');
  });
});

describe('completeChallenge / failChallenge', () => {
  it('settle the latest challenge from the handle or the admin API, once', async () => {
    const a = await charge();
    const done = emulator.completeChallenge(a.id);
    expect(done).toMatchObject({ changed: true, paymentIntent: { id: a.id, status: 'succeeded' } });
    expect(done.redirectUrl).toContain('redirect_status=succeeded');
    expect(emulator.failChallenge(a.id)).toMatchObject({ changed: false, redirectUrl: done.redirectUrl });

    const b = await charge();
    const admin = await raw(emulator, `/_emulator/payment_intents/${b.id}/fail_challenge`, {
      method: 'POST',
      auth: null,
    });
    expect(admin.status).toBe(200);
    expect(admin.json).toMatchObject({
      changed: true,
      paymentIntent: { status: 'requires_payment_method' },
      redirectUrl: expect.stringContaining('redirect_status=failed'),
    });
    const unknown = await raw(emulator, '/_emulator/payment_intents/pi_nope/complete_challenge', {
      method: 'POST',
      auth: null,
    });
    expect(unknown.status).toBe(404);
    expect(() => emulator.completeChallenge('pi_nope')).toThrow("No such payment_intent: 'pi_nope'");
    const visa = await charge({ payment_method: 'pm_card_visa' });
    expect(emulator.completeChallenge(visa.id)).toMatchObject({ changed: false, redirectUrl: null });
  });
});

describe('idempotency and faults on confirm', () => {
  it('replays a requires_action confirmation with the same challenge; a lost answer is replayed', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 4200, currency: 'usd' });
    const params = { payment_method: 'pm_card_threeDSecure2Required', return_url: RETURN_URL };
    const first = await stripe.paymentIntents.confirm(pi.id, params, { idempotencyKey: 'confirm-3ds' });
    const replay = await stripe.paymentIntents.confirm(pi.id, params, { idempotencyKey: 'confirm-3ds' });
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(replay.next_action).toEqual(first.next_action);

    const other = await stripe.paymentIntents.create({ amount: 4200, currency: 'usd' });
    emulator.setFaults([{ operation: 'payment_intents.confirm', fault: 'reset_after', times: 2 }]);
    const lost = await rejectionOf(stripe.paymentIntents.confirm(other.id, params, { idempotencyKey: 'k2' }));
    expect(lost).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    const retried = await stripe.paymentIntents.confirm(other.id, params, { idempotencyKey: 'k2' });
    expect(retried.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(retried.status).toBe('requires_action');

    expect(emulator.events().filter((e) => e.type === 'payment_intent.requires_action')).toHaveLength(2);
    expect(await submit(challengeUrl(first), 'Complete')).toMatchObject({ status: 303 });
    expect(await delivered()).toEqual([
      'payment_intent.created',
      'payment_intent.requires_action',
      'payment_intent.created',
      'payment_intent.requires_action',
      'payment_intent.succeeded',
    ]);
  });
});
