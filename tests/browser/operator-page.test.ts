import type { ChargeonceClient } from '@chargeonce/client';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserStack, startBrowserStack } from './support/stack';
import { allAnswered, clickInOneTask, newKeyPerRequest, openTab, type Tab } from './support/tab';

/**
 * The operator page through a provider outage: a customer's pay meets the provider down (nothing
 * executed there, the outcome unknown to us), the stuck attempt shows on the page with its age; the
 * provider comes back and the operator's "Recover" settles it (one charge), and the page shows it
 * settled. The recovery worker is off, so only the operator's action can settle it.
 */
let stack: BrowserStack;
let operator: { userId: string; token: string; api: ChargeonceClient };
beforeAll(async () => {
  stack = await startBrowserStack({ env: { CHARGEONCE_RECOVERY_INTERVAL_MS: '0' } });
  operator = await stack.operator();
});
afterAll(async () => {
  await stack?.stop();
});

const OUTAGE = [{ fault: 'error_before', operation: 'payment_intents.create', status: 503 }];

/** The demo customer pays during the outage: the answer is `processing`; its attempt is stuck. */
async function stuckPayment(): Promise<{ orderId: string; attemptId: string }> {
  const order = await stack.api.orders.create.mutate({
    amount: 25_00,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
  });
  await stack.setFaults(OUTAGE);
  try {
    expect(await stack.api.orders.pay.mutate({ orderId: order.id })).toMatchObject({ outcome: 'processing' });
  } finally {
    await stack.setFaults([]);
  }
  const { attempts } = await stack.api.orders.get.query({ orderId: order.id });
  return { orderId: order.id, attemptId: attempts[0]!.id };
}

const ui = (page: Page, attemptId: string) => ({
  row: page.locator(`tr[data-row-id="${attemptId}"]`),
  recover: page.getByRole('button', { name: `Recover Payment attempt ${attemptId.slice(0, 8)}` }),
  settled: page
    .getByTestId('recover-answers')
    .getByText(`Payment attempt ${attemptId.slice(0, 8)}: settled: succeeded (now succeeded)`),
  actionRows: page.locator('table.actions tbody tr', { hasText: attemptId }),
});

/** The second of a double click meets the first in flight (409, IDEMPOTENCY_KEY_IN_USE) and is retried. */
async function openOperatorPage(name: string): Promise<Tab> {
  const tab = await openTab(stack, { name, token: operator.token, expectedStatuses: [409] });
  await tab.page.goto(`${stack.webUrl}/`);
  await tab.page.getByRole('link', { name: 'Operations' }).click();
  await tab.page.getByRole('heading', { level: 1, name: 'Operations' }).waitFor();
  return tab;
}

const actionsOn = async (attemptId: string) =>
  (await operator.api.operations.overview.query()).actions.filter((a) => a.target === attemptId);

describe('the operator page', () => {
  it('shows the attempt stuck by a provider outage; "Recover" settles it once; the page shows it settled', async () => {
    const { orderId, attemptId } = await stuckPayment();
    const tab = await openOperatorPage('operator-recover');
    const page = ui(tab.page, attemptId);
    await page.row.waitFor();
    expect(await page.row.textContent()).toContain('provider outcome unknown');
    expect(await page.row.textContent()).toContain('$25.00');
    expect(await stack.paymentIntentsFor(orderId)).toEqual([]);

    // A double click in one task: one action (one key), one charge.
    await clickInOneTask(page.recover, 2);
    await page.settled.waitFor();
    await page.row.waitFor({ state: 'detached' });
    await page.actionRows.filter({ hasText: 'succeeded' }).waitFor();
    await allAnswered(tab.calls('operations.recover'), 'recover');
    expect(new Set(tab.calls('operations.recover').keys).size).toBe(1);
    expect((await stack.paymentIntentsFor(orderId)).map((pi) => pi.status)).toEqual(['succeeded']);
    expect((await stack.api.orders.get.query({ orderId })).order.status).toBe('paid');
    expect((await actionsOn(attemptId)).map((a) => a.result)).toEqual(['succeeded']);
    expect(tab.consoleErrors).toEqual([]);
  });

  it('the harness can fail: a page that sends a new key per click records the action once per click', async () => {
    const { orderId, attemptId } = await stuckPayment();
    const tab = await openOperatorPage('operator-recover-naive');
    await newKeyPerRequest(tab.page, 'operations.recover');
    const page = ui(tab.page, attemptId);
    await page.row.waitFor();
    await clickInOneTask(page.recover, 2);
    await allAnswered(tab.calls('operations.recover'), 'recover');
    // Still one charge (a settled attempt is a no-op), but two actions: what the check above excludes.
    expect((await stack.paymentIntentsFor(orderId)).map((pi) => pi.status)).toEqual(['succeeded']);
    expect(await actionsOn(attemptId)).toHaveLength(2);
  });

  it('reconciles now, and shows the run', async () => {
    const tab = await openOperatorPage('operator-reconcile');
    await tab.page.getByRole('button', { name: 'Reconcile now' }).click();
    await tab.page
      .getByTestId('latest-reconciliation')
      .getByText(new RegExp(`^Completed .* \\(by user:${operator.userId}, instance `))
      .waitFor();
    expect(tab.consoleErrors).toEqual([]);
  });

  it('a customer has no Operations link, and /operator is not found for them', async () => {
    const tab = await openTab(stack, { name: 'operator-customer' });
    await tab.page.goto(`${stack.webUrl}/`);
    await tab.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders' }).waitFor();
    // Only the customer's own links (the page itself is refused below, once whoami has answered).
    await expect
      .poll(() => tab.page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents())
      .toEqual(['Orders', 'New order']);
    await tab.page.goto(`${stack.webUrl}/operator`);
    await tab.page.getByRole('heading', { name: 'Page not found' }).waitFor();
    expect(tab.consoleErrors).toEqual([]);
  });
});
