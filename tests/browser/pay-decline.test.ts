import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/processes';
import { type BrowserStack, startBrowserStack } from './support/stack';
import { openTab, orderPage } from './support/tab';

let stack: BrowserStack;
beforeAll(async () => {
  stack = await startBrowserStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('a declined card', () => {
  it('says why, offers another card, and paying with pm_card_visa ends paid with one succeeded PaymentIntent', async () => {
    const order = await stack.api.orders.create.mutate({
      amount: 12_50,
      currency: 'usd',
      paymentMethodId: 'pm_card_chargeDeclinedInsufficientFunds',
    });
    // The decline is answered with HTTP 402, which Chromium logs even though the page handles it.
    const tab = await openTab(stack, { name: 'declined-then-paid', expectedStatuses: [402] });
    const ui = orderPage(tab.page);
    await tab.page.goto(`${stack.webUrl}/orders/${order.id}`);

    await ui.payButton.click();
    await ui.declined.waitFor();
    await tab.page.getByText('The payment was declined: the card has insufficient funds.').waitFor();
    await ui.attemptRows.filter({ hasText: 'Declined' }).waitFor();

    await tab.page.getByRole('radio', { name: /Visa — succeeds/ }).check();
    await tab.page.getByRole('button', { name: /^Pay .* with this card$/ }).click();
    await ui.paid.waitFor();
    await expect
      .poll(async () => (await ui.attemptRows.count()) === 2, { message: 'both attempts in the history' })
      .toBe(true);
    await expect.poll(() => tab.pays.settled === 2, { message: 'both pay requests to finish' }).toBe(true);

    const intents = await stack.paymentIntentsFor(order.id);
    const succeeded = intents.filter((pi) => pi.status === 'succeeded');
    expect(succeeded).toHaveLength(1);
    expect(intents).toHaveLength(2); // the declined one and the charge
    expect(await ui.paymentIntentId.textContent()).toBe(succeeded[0]!.id);
    expect(tab.consoleErrors).toEqual([]);

    // `CHARGEONCE_DOCS_SCREENSHOTS=1 pnpm test` refreshes the README's picture of the order page.
    if (process.env.CHARGEONCE_DOCS_SCREENSHOTS === '1') {
      await tab.page.screenshot({ path: join(REPO_ROOT, 'docs', 'order-page.png'), fullPage: true });
    }
  });
});
