import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserStack, startBrowserStack } from './support/stack';
import { openTab, orderPage } from './support/tab';

let stack: BrowserStack;
beforeAll(async () => {
  stack = await startBrowserStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('a reload while the payment is in flight', () => {
  it('shows "confirming" (no Pay button), then paid without a reload, and never charges twice', async () => {
    const order = await stack.api.orders.create.mutate({
      amount: 7_00,
      currency: 'gbp',
      paymentMethodId: 'pm_card_visa',
    });
    const tab = await openTab(stack, { name: 'reload-while-paying' });
    const ui = orderPage(tab.page);
    await tab.page.goto(`${stack.webUrl}/orders/${order.id}`);
    await ui.payButton.waitFor();

    // The provider takes 8 s: long enough, even on a loaded machine, to reload and look while the outcome is unknown.
    await stack.setProviderLatency(8_000);
    try {
      await ui.payButton.click();
      await expect
        .poll(
          async () => (await stack.api.orders.get.query({ orderId: order.id })).order.status === 'processing',
          { message: 'the server to claim the order' },
        )
        .toBe(true);
      await tab.page.reload();

      await ui.confirming.waitFor();
      expect(await ui.payButton.count()).toBe(0);
      await tab.page.getByRole('status').filter({ hasText: 'Your payment is being confirmed.' }).waitFor({
        state: 'attached',
      });

      // Followed by polling: no reload from here on.
      await ui.paid.waitFor({ timeout: 30_000 });
    } finally {
      await stack.setProviderLatency(0);
    }

    expect(tab.pays.sent).toBe(1);
    const intents = await stack.paymentIntentsFor(order.id);
    expect(intents.map((pi) => pi.status)).toEqual(['succeeded']);
    expect(await ui.paymentIntentId.textContent()).toBe(intents[0]!.id);
    expect(tab.consoleErrors).toEqual([]);
  });
});
