import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserStack, startBrowserStack } from './support/stack';
import { allAnswered, clickInOneTask, newKeyPerRequest, openTab, orderPage, type Tab } from './support/tab';

let stack: BrowserStack;
beforeAll(async () => {
  stack = await startBrowserStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** A $42.00 order, paid through the API: the page opens on it with Refund offered. */
async function paidOrder(paymentMethodId = 'pm_card_visa') {
  const order = await stack.api.orders.create.mutate({ amount: 4200, currency: 'usd', paymentMethodId });
  const paid = await stack.api.orders.pay.mutate({ orderId: order.id });
  expect(paid.order.status).toBe('paid');
  return paid.order;
}

async function openOrder(tab: Tab, orderId: string) {
  const ui = orderPage(tab.page);
  await tab.page.goto(`${stack.webUrl}/orders/${orderId}`);
  await ui.refundButton.waitFor();
  return ui;
}

/** The emulator's ledger and the order as the API has it, after the page's refunds. */
async function refundsMade(orderId: string) {
  const atProvider = await stack.refundsFor(orderId);
  const { order, refunds } = await stack.api.orders.get.query({ orderId });
  return { atProvider, order, refunds };
}

describe('the Refund button, pressed more than once', () => {
  it('double-click on Refund of a paid order: one refund of all of it, the page shows refunded', async () => {
    const paid = await paidOrder();
    const tab = await openTab(stack, { name: 'refund-double-click', expectedStatuses: [409] });
    const ui = await openOrder(tab, paid.id);
    expect(await ui.refundButton.textContent()).toBe('Refund $42.00');

    await ui.refundButton.dblclick();

    await ui.badge.filter({ hasText: /^Refunded$/ }).waitFor();
    await ui.refundRows.filter({ hasText: 'Refunded' }).waitFor();
    const refunds = tab.calls('orders.refund');
    await allAnswered(refunds, 'refund');
    expect(new Set(refunds.keys).size).toBe(1);

    const { atProvider, order } = await refundsMade(paid.id);
    expect(atProvider.map((r) => [r.status, r.amount])).toEqual([['succeeded', 4200]]);
    expect(order).toMatchObject({ status: 'refunded', refundedAmount: 4200 });
    expect(await ui.refundedAmount.textContent()).toBe('$42.00');
    expect(await ui.refundRows.count()).toBe(1);
    expect(await ui.refundButton.count()).toBe(0);
    expect(await ui.alerts.count()).toBe(0);
    expect(tab.consoleErrors).toEqual([]);
  });

  it('five clicks from script on a slow provider, faster than the button is disabled: five requests, one key, one refund', async () => {
    const paid = await paidOrder();
    // Each refund request is answered only by the first one's (IDEMPOTENCY_KEY_IN_USE 409s, retried).
    const tab = await openTab(stack, { name: 'refund-five-clicks', expectedStatuses: [409] });
    const ui = await openOrder(tab, paid.id);
    // A slow provider: every click's request arrives while the first refund is still at the provider.
    await stack.setProviderLatency(300);
    try {
      await clickInOneTask(tab.page.locator('[data-refund-button]'), 5);
      await ui.badge.filter({ hasText: /^Refunded$/ }).waitFor();
      const refunds = tab.calls('orders.refund');
      await allAnswered(refunds, 'refund');
      // The harness really sent five (the server could have made five refunds), all under one key.
      expect(refunds.keys).toHaveLength(refunds.sent);
      expect(refunds.sent).toBeGreaterThanOrEqual(5);
      expect(new Set(refunds.keys).size).toBe(1);
      const executed = refunds.answers.filter((a) => a.status === 200 && !a.replayed);
      expect(executed.map((a) => a.outcome)).toEqual(['refunded']);
    } finally {
      await stack.setProviderLatency(0);
    }

    const { atProvider, order, refunds } = await refundsMade(paid.id);
    expect(atProvider.map((r) => [r.status, r.amount])).toEqual([['succeeded', 4200]]);
    expect(refunds.map((r) => [r.status, r.amount])).toEqual([['succeeded', 4200]]);
    expect(order).toMatchObject({ status: 'refunded', refundedAmount: 4200 });
    await expect.poll(() => ui.refundRows.count(), { message: 'one refund row' }).toBe(1);
    expect(await ui.alerts.count()).toBe(0);
    expect(tab.consoleErrors).toEqual([]);
  });
});

describe('a partial refund through the amount field', () => {
  it('is checked first, then refunds exactly that once: partially refunded, its row, the rest still offered', async () => {
    const paid = await paidOrder();
    const tab = await openTab(stack, { name: 'refund-partial', expectedStatuses: [409] });
    const ui = await openOrder(tab, paid.id);

    // More than was charged never leaves the page.
    await ui.refundAmount.fill('42.01');
    await ui.refundButton.click();
    await ui.alerts.filter({ hasText: 'At most $42.00 is left to refund.' }).waitFor();
    await ui.refundAmount.fill('0');
    await ui.refundButton.click();
    await ui.alerts.filter({ hasText: 'Enter an amount greater than 0' }).waitFor();
    expect(tab.calls('orders.refund').sent).toBe(0);

    await ui.refundAmount.fill('10.50');
    await ui.refundReason.selectOption('requested_by_customer');
    expect(await ui.refundButton.textContent()).toBe('Refund $10.50');
    // A double click faster than a render: both submits go out (the naive page below refunds twice).
    await clickInOneTask(tab.page.locator('[data-refund-button]'), 2);

    await ui.badge.filter({ hasText: 'Partly refunded' }).waitFor();
    const row = ui.refundRows.filter({ hasText: '$10.50' });
    await row.filter({ hasText: 'Refunded' }).waitFor();
    expect(await row.textContent()).toContain('Requested by the customer');
    const refunds = tab.calls('orders.refund');
    await allAnswered(refunds, 'refund');
    expect(refunds.sent).toBeGreaterThanOrEqual(2);
    expect(new Set(refunds.keys).size).toBe(1);

    const { atProvider, order } = await refundsMade(paid.id);
    expect(atProvider.map((r) => [r.status, r.amount, r.reason])).toEqual([
      ['succeeded', 1050, 'requested_by_customer'],
    ]);
    expect(order).toMatchObject({ status: 'partially_refunded', refundedAmount: 1050 });
    expect(await ui.refundedAmount.textContent()).toBe('$10.50');
    expect(await ui.refundRows.count()).toBe(1);
    // The form keeps what it sent: a press again after the answer (a slow double click) sends the
    // same key and input, and the server replays the refund instead of refunding again.
    expect(await ui.refundAmount.inputValue()).toBe('10.50');
    const sentBefore = refunds.sent;
    await ui.refundButton.click();
    await expect
      .poll(() => tab.calls('orders.refund').sent, { message: 'the late press sent' })
      .toBeGreaterThan(sentBefore);
    await allAnswered(tab.calls('orders.refund'), 'refund');
    expect(new Set(tab.calls('orders.refund').keys).size).toBe(1);
    expect((await refundsMade(paid.id)).atProvider).toHaveLength(1);
    // Another refund starts with an edit (a new key): emptied, the form offers all that is left.
    await ui.refundAmount.fill('');
    await expect
      .poll(() => ui.refundButton.textContent(), { message: 'the rest offered' })
      .toBe('Refund $31.50');
    expect(await ui.alerts.count()).toBe(0);
    expect(tab.consoleErrors).toEqual([]);
  });

  it('the harness catches a naive page: the same clicks with a new key per request make two refunds', async () => {
    const paid = await paidOrder();
    const tab = await openTab(stack, { name: 'refund-naive-page' });
    await newKeyPerRequest(tab.page, 'orders.refund');
    const ui = await openOrder(tab, paid.id);
    await ui.refundAmount.fill('10.50');
    await clickInOneTask(tab.page.locator('[data-refund-button]'), 2);
    await allAnswered(tab.calls('orders.refund'), 'refund');
    expect(tab.calls('orders.refund').sent).toBe(2);

    // What the tests above assert against (one refund) fails for this page: it refunded twice.
    const { atProvider, order } = await refundsMade(paid.id);
    expect(atProvider.map((r) => [r.status, r.amount])).toEqual([
      ['succeeded', 1050],
      ['succeeded', 1050],
    ]);
    expect(order).toMatchObject({ status: 'partially_refunded', refundedAmount: 2100 });
    await expect.poll(() => ui.refundRows.count(), { message: 'both refunds shown' }).toBe(2);
  });
});

describe('a refund the provider confirms later', () => {
  it('shows as being confirmed, then refunded without a reload, and is never sent again', async () => {
    // The emulator's pendingRefund card: its refunds are pending, then succeed (a webhook tells the server).
    const paid = await paidOrder('pm_card_pendingRefund');
    await stack.setRefundDelay(3_000);
    try {
      const tab = await openTab(stack, { name: 'refund-confirmed-later' });
      const ui = await openOrder(tab, paid.id);
      await ui.refundButton.click();

      await ui.refundRows.filter({ hasText: 'Being confirmed' }).waitFor();
      await tab.page.getByText('($42.00 of it not confirmed yet)').waitFor();
      // Followed by polling: no reload from here on.
      await ui.refundRows.filter({ hasText: 'Refunded' }).waitFor({ timeout: 30_000 });
      await tab.page.getByText('($42.00 of it not confirmed yet)').waitFor({ state: 'detached' });
      expect(tab.calls('orders.refund').sent).toBe(1);
      expect((await stack.refundsFor(paid.id)).map((r) => [r.status, r.amount])).toEqual([
        ['succeeded', 4200],
      ]);
      expect(await ui.badge.textContent()).toBe('Refunded');
      expect(await ui.alerts.count()).toBe(0);
      expect(tab.consoleErrors).toEqual([]);
    } finally {
      await stack.setRefundDelay(1_000);
    }
  });
});

describe('a refund the server refuses', () => {
  it('a tab that still shows Refund after another tab refunded all of it says so, and shows the order refunded', async () => {
    const paid = await paidOrder();
    const stale = await openTab(stack, { name: 'refund-stale-tab', expectedStatuses: [409] });
    const ui = await openOrder(stale, paid.id);
    // Another tab (here the API) refunds everything; the paid page does not poll, so it still offers Refund.
    await stack.api.orders.refund.mutate({ orderId: paid.id });

    await ui.refundButton.click();
    await ui.alerts.filter({ hasText: 'already refunded in full. Nothing was refunded.' }).waitFor();
    await ui.badge.filter({ hasText: /^Refunded$/ }).waitFor();
    expect(await ui.refundButton.count()).toBe(0);
    expect(stale.calls('orders.refund').answers.map((a) => [a.status, a.outcome])).toEqual([
      [409, 'ORDER_NOT_REFUNDABLE'],
    ]);
    expect((await stack.refundsFor(paid.id)).map((r) => r.amount)).toEqual([4200]);
    expect(stale.consoleErrors).toEqual([]);
  });
});
