import type { ChargeonceClient } from '@chargeonce/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHALLENGE_PAGE,
  challengeUi,
  ORDER_PAGE,
  recordChallengeVisits,
  THREE_DS_CARD,
} from './support/challenge';
import { type BrowserStack, startBrowserStack } from './support/stack';
import { allAnswered, openTab, orderPage, type Tab } from './support/tab';

/**
 * Capture later (manual capture): paying authorizes, the merchant's back office captures (all or
 * part) or releases the hold. The customer's page says which, and offers nothing the server would
 * refuse a customer: no Pay, no Cancel, no Refund while the hold is open; after a partial capture,
 * refunds up to what was captured.
 */
let stack: BrowserStack;
let merchant: ChargeonceClient;
beforeAll(async () => {
  stack = await startBrowserStack();
  merchant = await stack.merchant();
});
afterAll(async () => {
  await stack?.stop();
});

const ui = (tab: Tab) => ({ ...orderPage(tab.page), ...challengeUi(tab.page) });

/** Authorized from the order page: the order's id. */
async function authorizeOnPage(tab: Tab, amount = '42.00'): Promise<string> {
  await tab.page.goto(`${stack.webUrl}/orders/new`);
  await tab.page.getByLabel('Amount').fill(amount);
  await tab.page.getByRole('checkbox', { name: 'Capture later' }).check();
  await tab.page.getByRole('button', { name: 'Create order' }).click();
  await tab.page.waitForURL(ORDER_PAGE);
  await ui(tab).payButton.click();
  await ui(tab).authorized.waitFor();
  return new URL(tab.page.url()).pathname.split('/').pop()!;
}

/** What a customer may not do to an open hold is not offered. */
async function expectNothingOffered(tab: Tab) {
  const page = ui(tab);
  expect(await page.payButton.count()).toBe(0);
  expect(await page.cancelButton.count()).toBe(0);
  expect(await page.refundButton.count()).toBe(0);
}

describe('an order to capture later', () => {
  it('paid with pm_card_visa: "Authorized — will be charged when shipped", funds held once, no Pay', async () => {
    const tab = await openTab(stack, { name: 'capture-later-authorized' });
    const orderId = await authorizeOnPage(tab);

    await ui(tab)
      .badge.filter({ hasText: /^Authorized$/ })
      .waitFor();
    await expectNothingOffered(tab);
    await allAnswered(tab.pays, 'pay');
    const intents = await stack.paymentIntentsFor(orderId);
    expect(intents.map((pi) => [pi.status, pi.capture_method])).toEqual([['requires_capture', 'manual']]);
    expect(await ui(tab).paymentIntentId.textContent()).toBe(intents[0]!.id);
    expect((await stack.api.orders.get.query({ orderId })).order).toMatchObject({
      status: 'authorized',
      captureMethod: 'manual',
    });

    await tab.page.reload();
    await ui(tab).authorized.waitFor();
    await expectNothingOffered(tab);
    expect(tab.pays.sent).toBe(1);
    expect(tab.consoleErrors).toEqual([]);
  });

  it('captured in part by the merchant: shows what was taken, and refunds at most that', async () => {
    const tab = await openTab(stack, { name: 'capture-later-partial' });
    const orderId = await authorizeOnPage(tab);
    expect(await merchant.orders.capture.mutate({ orderId, amount: 30_00 })).toMatchObject({
      outcome: 'captured',
      order: { status: 'paid', capturedAmount: 30_00 },
    });

    // An open hold is not polled (the merchant may capture days later): a reload shows the capture.
    await tab.page.reload();
    await ui(tab).paid.waitFor();
    await tab.page
      .getByText('$30.00 of the $42.00 authorized was charged, once; the rest was released.')
      .waitFor();
    await tab.page.getByText('$30.00 of the $30.00 charged can be refunded').waitFor();
    expect(await ui(tab).payButton.count()).toBe(0);
    await ui(tab).refundAmount.fill('30.01');
    await ui(tab).refundButton.click();
    await ui(tab).alerts.filter({ hasText: 'At most $30.00 is left to refund.' }).waitFor();
    expect(tab.calls('orders.refund').sent).toBe(0);

    await ui(tab).refundAmount.fill('');
    await ui(tab).refundButton.click();
    await ui(tab)
      .badge.filter({ hasText: /^Refunded$/ })
      .waitFor();
    await allAnswered(tab.calls('orders.refund'), 'refund');
    expect((await stack.refundsFor(orderId)).map((r) => [r.amount, r.status])).toEqual([
      [30_00, 'succeeded'],
    ]);
    expect(await ui(tab).refundedAmount.textContent()).toBe('$30.00');
    expect(tab.consoleErrors).toEqual([]);
  });

  it('released by the merchant: "Authorization released", nothing charged, nothing offered', async () => {
    const tab = await openTab(stack, { name: 'capture-later-released' });
    const orderId = await authorizeOnPage(tab);
    expect(await merchant.orders.void.mutate({ orderId })).toMatchObject({
      outcome: 'voided',
      order: { status: 'canceled' },
    });

    await tab.page.reload();
    await tab.page.getByRole('heading', { name: 'Authorization released' }).waitFor();
    await tab.page.getByText('Nothing was charged, and this order cannot be paid.').waitFor();
    await expectNothingOffered(tab);
    expect((await stack.paymentIntentsFor(orderId)).map((pi) => pi.status)).toEqual(['canceled']);
    expect(await stack.refundsFor(orderId)).toEqual([]);
    expect(tab.consoleErrors).toEqual([]);
  });

  it('with a card that asks for 3-D Secure: after the challenge, authorized', async () => {
    const order = await stack.api.orders.create.mutate({
      amount: 42_00,
      currency: 'usd',
      paymentMethodId: THREE_DS_CARD,
      captureMethod: 'manual',
    });
    const tab = await openTab(stack, { name: 'capture-later-3ds' });
    const visits = await recordChallengeVisits(tab.page, stack.emulatorUrl);
    await tab.page.goto(`${stack.webUrl}/orders/${order.id}`);

    await ui(tab).payButton.click();
    await tab.page.waitForURL(CHALLENGE_PAGE);
    await ui(tab).complete.click();
    await tab.page.waitForURL(ORDER_PAGE);

    await ui(tab).authorized.waitFor();
    await expectNothingOffered(tab);
    expect((await stack.paymentIntentsFor(order.id)).map((pi) => pi.status)).toEqual(['requires_capture']);
    expect(tab.pays.sent).toBe(1);
    expect(visits).toHaveLength(1);
    expect(tab.consoleErrors).toEqual([]);
  });
});
