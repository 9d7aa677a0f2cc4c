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

const newOrder = () =>
  stack.api.orders.create.mutate({ amount: 4200, currency: 'usd', paymentMethodId: 'pm_card_visa' });

describe('the Pay button, pressed more than once', () => {
  it('double-click: one PaymentIntent, the page shows paid', async () => {
    const order = await newOrder();
    const tab = await openTab(stack, { name: 'double-click' });
    const ui = orderPage(tab.page);
    await tab.page.goto(`${stack.webUrl}/orders/${order.id}`);

    await ui.payButton.dblclick();

    await ui.paid.waitFor();
    await expect
      .poll(() => tab.pays.settled === tab.pays.sent, { message: 'every pay request to finish' })
      .toBe(true);
    const intents = await stack.paymentIntentsFor(order.id);
    expect(intents.map((pi) => pi.status)).toEqual(['succeeded']);
    expect(await ui.paymentIntentId.textContent()).toBe(intents[0]!.id);
    expect(tab.consoleErrors).toEqual([]);
  });

  it('five rapid clicks dispatched from script, faster than the button can be disabled: one PaymentIntent', async () => {
    // Slow provider: every pay overlaps the first one's charge.
    await stack.setProviderLatency(700);
    try {
      const order = await newOrder();
      const tab = await openTab(stack, { name: 'five-clicks-from-script' });
      const ui = orderPage(tab.page);
      await tab.page.goto(`${stack.webUrl}/orders/${order.id}`);
      await ui.payButton.waitFor();

      // Five click events in one task: React disables the button only on its next render, after
      // all five have run their handlers, so the disabled state is bypassed and five pays go out.
      // Only the server stands between them and five charges.
      await tab.page.locator('[data-pay-button]').evaluate((element) => {
        const button = element as unknown as { click(): void };
        for (let i = 0; i < 5; i++) button.click();
      });
      await tab.page.getByRole('button', { name: 'Paying…' }).waitFor();

      await ui.paid.waitFor();
      await expect
        .poll(() => tab.pays.sent === 5 && tab.pays.settled === 5, {
          timeout: 30_000,
          message: 'five pay requests to reach the server and finish',
        })
        .toBe(true);
      const intents = await stack.paymentIntentsFor(order.id);
      expect(intents.map((pi) => pi.status)).toEqual(['succeeded']);
      expect(await stack.api.orders.get.query({ orderId: order.id })).toMatchObject({
        order: { status: 'paid', paymentIntentId: intents[0]!.id },
      });
      expect(await ui.paymentIntentId.textContent()).toBe(intents[0]!.id);
      expect(tab.consoleErrors).toEqual([]);
    } finally {
      await stack.setProviderLatency(0);
    }
  });
});
