import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/processes';
import {
  CHALLENGE_PAGE,
  challengeUi,
  holdChallengeUntil,
  ORDER_PAGE,
  recordChallengeVisits,
  recordPayAnswers,
  THREE_DS_CARD,
} from './support/challenge';
import { type BrowserStack, startBrowserStack } from './support/stack';
import { allAnswered, clickInOneTask, openTab, orderPage, type Tab } from './support/tab';

/**
 * 3-D Secure in the browser: Pay sends the browser to the bank's challenge (the emulator's page),
 * which sends it back to the order page; one `orders.get` there shows the settled order. Effects
 * are counted at the emulator (PaymentIntents) and in the browser (pay requests, challenge visits).
 */
let stack: BrowserStack;
beforeAll(async () => {
  stack = await startBrowserStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function openChallengeOrder(tab: Tab) {
  const order = await stack.api.orders.create.mutate({
    amount: 42_00,
    currency: 'eur',
    paymentMethodId: THREE_DS_CARD,
  });
  const visits = await recordChallengeVisits(tab.page, stack.emulatorUrl);
  await tab.page.goto(`${stack.webUrl}/orders/${order.id}`);
  await orderPage(tab.page).payButton.waitFor();
  return { order, visits, ui: { ...orderPage(tab.page), ...challengeUi(tab.page) } };
}

const statuses = async (orderId: string) => (await stack.paymentIntentsFor(orderId)).map((pi) => pi.status);

/** Back on the order page from the challenge, with Stripe's query taken out of the address bar. */
async function backOnOrderPage(tab: Tab, orderId: string) {
  await tab.page.waitForURL(ORDER_PAGE);
  expect(new URL(tab.page.url()).pathname).toBe(`/orders/${orderId}`);
  await expect.poll(() => new URL(tab.page.url()).search, { message: 'the return query removed' }).toBe('');
}

describe('paying with a card that asks for 3-D Secure', () => {
  it('complete the challenge: back on the order page it shows Paid, one succeeded PaymentIntent', async () => {
    const tab = await openTab(stack, { name: '3ds-completed' });
    const { order, visits, ui } = await openChallengeOrder(tab);

    await ui.payButton.click();
    await tab.page.waitForURL(CHALLENGE_PAGE);
    await ui.complete.waitFor();
    expect(await statuses(order.id)).toEqual(['requires_action']);
    // `CHARGEONCE_DOCS_SCREENSHOTS=1` refreshes the docs' picture of the challenge page.
    if (process.env.CHARGEONCE_DOCS_SCREENSHOTS === '1') {
      await tab.page.screenshot({ path: join(REPO_ROOT, 'docs', '3ds-challenge.png'), fullPage: true });
    }
    await ui.complete.click();

    await backOnOrderPage(tab, order.id);
    await ui.paid.waitFor();
    await ui.badge.filter({ hasText: /^Paid$/ }).waitFor();
    const intents = await stack.paymentIntentsFor(order.id);
    expect(intents.map((pi) => pi.status)).toEqual(['succeeded']);
    expect(await ui.paymentIntentId.textContent()).toBe(intents[0]!.id);
    await ui.attemptRows.filter({ hasText: 'Succeeded' }).waitFor();
    expect(tab.pays.sent).toBe(1);
    expect(visits).toHaveLength(1);
    expect(tab.consoleErrors).toEqual([]);
  });

  it('fail the challenge: the order is payable again, and pm_card_visa pays it', async () => {
    const tab = await openTab(stack, { name: '3ds-failed-then-paid' });
    const { order, ui } = await openChallengeOrder(tab);

    await ui.payButton.click();
    await tab.page.waitForURL(CHALLENGE_PAGE);
    await ui.fail.click();

    await backOnOrderPage(tab, order.id);
    await ui.failed.waitFor();
    await tab.page
      .getByText('The payment did not go through: your bank could not confirm the payment')
      .waitFor();
    expect(await statuses(order.id)).toEqual(['requires_payment_method']);
    await tab.page.getByRole('radio', { name: /Visa — succeeds/ }).check();
    await tab.page.getByRole('button', { name: /^Pay .* with this card$/ }).click();

    await ui.paid.waitFor();
    await expect.poll(() => ui.attemptRows.count(), { message: 'both attempts in the history' }).toBe(2);
    await allAnswered(tab.pays, 'pay');
    const intents = await stack.paymentIntentsFor(order.id);
    expect(intents.map((pi) => pi.status)).toEqual(['requires_payment_method', 'succeeded']);
    expect(await ui.paymentIntentId.textContent()).toBe(intents[1]!.id);
    expect(tab.pays.sent).toBe(2);
    expect(tab.consoleErrors).toEqual([]);
  });

  it('double-click on Pay before the redirect: one PaymentIntent, and the browser goes to the challenge once', async () => {
    const tab = await openTab(stack, { name: '3ds-double-click' });
    const { order, visits, ui } = await openChallengeOrder(tab);
    const answers = await recordPayAnswers(tab.page);
    // The challenge page loads only once both pays are answered: the page is still there to hear
    // the second answer, and would follow it too if it followed every answer.
    await holdChallengeUntil(tab.page, () => tab.pays.settled === 2, 'both pay requests to be answered');

    await clickInOneTask(tab.page.locator('[data-pay-button]'), 2);

    await tab.page.waitForURL(CHALLENGE_PAGE);
    await ui.complete.waitFor();
    expect(tab.pays.sent).toBe(2);
    expect(answers.map((a) => a.outcome)).toEqual(['requires_action', 'requires_action']);
    // Both answers name the one challenge: the second pay made no PaymentIntent of its own.
    expect(new Set(answers.map((a) => a.redirectUrl))).toEqual(new Set([tab.page.url()]));
    expect(await statuses(order.id)).toEqual(['requires_action']);
    expect(visits).toEqual([tab.page.url()]);
    await ui.complete.click();

    await backOnOrderPage(tab, order.id);
    await ui.paid.waitFor();
    expect(await statuses(order.id)).toEqual(['succeeded']);
    expect(visits).toHaveLength(1);
    expect(tab.consoleErrors).toEqual([]);
  });

  it('the harness catches a page that follows every answer: two redirects are two visits', async () => {
    const tab = await openTab(stack, { name: '3ds-naive-redirects' });
    const { order, visits } = await openChallengeOrder(tab);
    const answer = await stack.api.orders.pay.mutate({ orderId: order.id });
    if (answer.outcome !== 'requires_action' || !answer.redirectUrl) throw new Error(answer.outcome);
    await holdChallengeUntil(tab.page, () => visits.length === 2, 'both redirects to be made');

    // What a page without the once-per-challenge guard does with the two answers of a double click.
    await tab.page.evaluate((to) => {
      const { location } = globalThis as unknown as { location: { assign(url: string): void } };
      location.assign(to);
      location.assign(to);
    }, answer.redirectUrl);

    await expect.poll(() => tab.page.url(), { message: 'the challenge page' }).toMatch(CHALLENGE_PAGE);
    expect(visits).toEqual([answer.redirectUrl, answer.redirectUrl]);
  });

  it('reload on return: still Paid, still one PaymentIntent, no pay sent again', async () => {
    const tab = await openTab(stack, { name: '3ds-reload-on-return' });
    const { order, visits, ui } = await openChallengeOrder(tab);

    await ui.payButton.click();
    await tab.page.waitForURL(CHALLENGE_PAGE);
    await ui.complete.click();
    await tab.page.waitForURL(ORDER_PAGE);
    await tab.page.reload();

    await ui.paid.waitFor();
    await tab.page.reload();
    await ui.paid.waitFor();
    expect(await ui.payButton.count()).toBe(0);
    const intents = await stack.paymentIntentsFor(order.id);
    expect(intents.map((pi) => pi.status)).toEqual(['succeeded']);
    expect(await ui.paymentIntentId.textContent()).toBe(intents[0]!.id);
    expect(tab.pays.sent).toBe(1);
    expect(visits).toHaveLength(1);
    expect(tab.consoleErrors).toEqual([]);
  });

  it('back on the order page while the challenge is open: "Confirm with your bank…", no Pay, and Continue resumes it', async () => {
    const tab = await openTab(stack, { name: '3ds-resume' });
    const { order, visits, ui } = await openChallengeOrder(tab);

    await ui.payButton.click();
    await tab.page.waitForURL(CHALLENGE_PAGE);
    const challenge = tab.page.url();
    await tab.page.goto(`${stack.webUrl}/orders/${order.id}`);

    await ui.confirmWithBank.waitFor();
    await ui.badge.filter({ hasText: 'Awaiting your bank' }).waitFor();
    expect(await ui.payButton.count()).toBe(0);
    expect(await ui.cancelButton.count()).toBe(0);
    expect(await ui.continueLink.getAttribute('href')).toBe(challenge);
    await ui.continueLink.click();
    await tab.page.waitForURL(CHALLENGE_PAGE);
    expect(tab.page.url()).toBe(challenge);
    await ui.complete.click();

    await backOnOrderPage(tab, order.id);
    await ui.paid.waitFor();
    expect(await statuses(order.id)).toEqual(['succeeded']);
    expect(tab.pays.sent).toBe(1);
    expect(visits).toEqual([challenge, challenge]);
    expect(tab.consoleErrors).toEqual([]);
  });
});
