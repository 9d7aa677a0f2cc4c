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

describe('the same order open in two tabs', () => {
  it('Pay pressed in both at once: one PaymentIntent, both tabs end showing paid', async () => {
    const order = await stack.api.orders.create.mutate({
      amount: 1999,
      currency: 'eur',
      paymentMethodId: 'pm_card_visa',
    });
    // Two browser contexts: no shared storage or JavaScript, like two windows of two people.
    const tabs = await Promise.all([
      openTab(stack, { name: 'two-tabs-a' }),
      openTab(stack, { name: 'two-tabs-b' }),
    ]);
    await Promise.all(tabs.map((tab) => tab.page.goto(`${stack.webUrl}/orders/${order.id}`)));
    const uis = tabs.map((tab) => orderPage(tab.page));
    await Promise.all(uis.map((ui) => ui.payButton.waitFor()));

    // A slow provider keeps the first pay in flight long enough for the two to overlap.
    await stack.setProviderLatency(500);
    try {
      await Promise.all(uis.map((ui) => ui.payButton.click()));
      await Promise.all(uis.map((ui) => ui.paid.waitFor()));
      await expect
        .poll(() => tabs.every((tab) => tab.pays.sent === 1 && tab.pays.settled === 1), {
          message: 'one finished pay request per tab',
        })
        .toBe(true);
    } finally {
      await stack.setProviderLatency(0);
    }

    const intents = await stack.paymentIntentsFor(order.id);
    expect(intents.map((pi) => pi.status)).toEqual(['succeeded']);
    for (const [i, ui] of uis.entries()) {
      expect(await ui.paymentIntentId.textContent()).toBe(intents[0]!.id);
      expect(tabs[i]!.consoleErrors).toEqual([]);
    }
  });
});
