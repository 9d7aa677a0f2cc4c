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

describe('the web client as the README tells a person to use it', () => {
  it('signs in with the offered demo token, creates an order with a test card, pays it, lists it', async () => {
    const tab = await openTab(stack, { name: 'sign-in-create-pay-list', signedIn: false });
    const { page } = tab;
    await page.goto(stack.webUrl);

    await page.getByRole('button', { name: 'Use the demo token' }).click();
    await page.getByRole('heading', { name: 'Orders' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New order' }).click();

    await page.getByLabel('Amount').fill('19.99');
    await page.getByLabel('Currency').selectOption('eur');
    await page.getByRole('radio', { name: /Visa — succeeds/ }).check();
    await page.getByRole('button', { name: 'Create order' }).click();

    const ui = orderPage(page);
    await ui.payButton.waitFor();
    expect(await ui.payButton.textContent()).toBe('Pay €19.99');
    const orderId = new URL(page.url()).pathname.split('/').pop()!;
    await ui.payButton.click();
    await ui.paid.waitFor();

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders' }).click();
    const row = page.getByRole('row').filter({ hasText: orderId.slice(0, 8) });
    await row.getByText('Paid', { exact: true }).waitFor();
    expect(await row.textContent()).toContain('€19.99');
    expect((await stack.paymentIntentsFor(orderId)).map((pi) => pi.status)).toEqual(['succeeded']);
    expect(tab.consoleErrors).toEqual([]);
  });

  it('pages through the orders with a cursor, newest first', async () => {
    // 12 more orders: with the one above, two pages of 10 for the demo user.
    for (let i = 1; i <= 12; i++) {
      await stack.api.orders.create.mutate({
        amount: i * 100,
        currency: 'usd',
        paymentMethodId: 'pm_card_visa',
      });
    }
    const tab = await openTab(stack, { name: 'orders-pages' });
    const { page } = tab;
    await page.goto(stack.webUrl);
    const rows = page.locator('table.orders tbody tr');
    await page.getByText('page 1)').waitFor();
    // count() does not wait: the page label can update a render before the rows do.
    await expect.poll(async () => (await rows.count()) === 10, { message: '10 rows on page 1' }).toBe(true);
    expect(await rows.first().textContent()).toContain('$12.00');

    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('page 2)').waitFor();
    await expect.poll(async () => (await rows.count()) === 3, { message: '3 rows on page 2' }).toBe(true);
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);

    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('page 1)').waitFor();
    await expect
      .poll(async () => ((await rows.first().textContent()) ?? '').includes('$12.00'), {
        message: 'page 1 again, newest first',
      })
      .toBe(true);
    expect(tab.consoleErrors).toEqual([]);
  });
});
