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

const orderCount = async () => (await stack.api.orders.list.query({ limit: 100 })).items.length;

describe('the New-order form, submitted more than once', () => {
  it('two submits in one task (faster than the button can be disabled) make one order', async () => {
    // The second create may reach the server while the first still holds the key: it is answered
    // 409 IDEMPOTENCY_KEY_IN_USE and the client sends it again (Chromium logs that 409 as a console
    // error). Which of the two happens depends on the machine's speed; both make one order.
    const tab = await openTab(stack, { name: 'new-order-submitted-twice', expectedStatuses: [409] });
    const { page } = tab;
    const creates: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/trpc/orders.create') creates.push(request.postData() ?? '');
    });
    await page.goto(`${stack.webUrl}/orders/new`);
    await page.getByLabel('Amount').fill('12.34');
    const before = await orderCount();

    // Both submit events run their handlers before React re-renders: two creates go out.
    await page.locator('form').evaluate((form) => {
      const f = form as unknown as { requestSubmit(): void };
      f.requestSubmit();
      f.requestSubmit();
    });

    const ui = orderPage(page);
    await ui.payButton.waitFor();
    expect(await ui.payButton.textContent()).toBe('Pay $12.34');
    await expect.poll(() => creates.length >= 2, { message: 'both creates to be sent' }).toBe(true);
    // The same key on both: the server made one order and replayed it to the other.
    const keys = new Set(
      creates.map((body) => (JSON.parse(body) as { idempotencyKey?: string }).idempotencyKey),
    );
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(await orderCount()).toBe(before + 1);
    expect(tab.consoleErrors).toEqual([]);
  });
});
