import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHALLENGE_PAGE, challengeUi, recordChallengeVisits, THREE_DS_CARD } from './support/challenge';
import { type BrowserStack, startBrowserStack } from './support/stack';
import { allAnswered, openTab, orderPage } from './support/tab';

/**
 * An abandoned 3-D Secure challenge: the customer leaves the bank's page without answering. The
 * server's recovery worker cancels the PaymentIntent once the challenge is older than its timeout
 * (here 4 s, recovery every 250 ms with no grace), and the order page, which follows the open
 * challenge by polling, shows the order payable again with no reload.
 *
 * Recovery leases every attempt it looks at: one it finds still within its timeout is looked at
 * again only when that lease ends (120 s by default). The lease is cut to 3 s here, which the
 * server's safety check allows only with provider calls bounded to as much (the emulator answers
 * in milliseconds).
 */
const CHALLENGE_TIMEOUT_MS = 4_000;
let stack: BrowserStack;
beforeAll(async () => {
  stack = await startBrowserStack({
    env: {
      CHARGEONCE_CHALLENGE_TIMEOUT_MS: String(CHALLENGE_TIMEOUT_MS),
      CHARGEONCE_RECOVERY_GRACE_MS: '0',
      CHARGEONCE_RECOVERY_INTERVAL_MS: '250',
      CHARGEONCE_RECOVERY_LEASE_MS: '3000',
      STRIPE_CALL_TIMEOUT_MS: '3000',
    },
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe('a challenge left unanswered', () => {
  it('is canceled by recovery: the open page turns payable again by itself, and pm_card_visa pays', async () => {
    const order = await stack.api.orders.create.mutate({
      amount: 19_99,
      currency: 'usd',
      paymentMethodId: THREE_DS_CARD,
    });
    const tab = await openTab(stack, { name: '3ds-abandoned' });
    const ui = { ...orderPage(tab.page), ...challengeUi(tab.page) };
    const visits = await recordChallengeVisits(tab.page, stack.emulatorUrl);
    await tab.page.goto(`${stack.webUrl}/orders/${order.id}`);

    await ui.payButton.click();
    await tab.page.waitForURL(CHALLENGE_PAGE);
    await ui.complete.waitFor();
    // The customer walks away from the bank's page, back to the order.
    await tab.page.goBack();
    await ui.confirmWithBank.waitFor();
    expect(await ui.payButton.count()).toBe(0);

    // No reload from here on: the page polls the open challenge (each read re-reads the PaymentIntent).
    await ui.failed.waitFor({ timeout: CHALLENGE_TIMEOUT_MS + 30_000 });
    await tab.page
      .getByText('The payment did not go through: the check with your bank was not completed in time')
      .waitFor();
    const [abandoned] = await stack.paymentIntentsFor(order.id);
    expect(abandoned).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
    await ui.attemptRows.filter({ hasText: 'Failed' }).waitFor();

    await tab.page.getByRole('radio', { name: /Visa — succeeds/ }).check();
    await tab.page.getByRole('button', { name: /^Pay .* with this card$/ }).click();
    await ui.paid.waitFor();
    await allAnswered(tab.pays, 'pay');

    const intents = await stack.paymentIntentsFor(order.id);
    expect(intents.map((pi) => pi.status)).toEqual(['canceled', 'succeeded']);
    expect(await ui.paymentIntentId.textContent()).toBe(intents[1]!.id);
    expect(tab.pays.sent).toBe(2);
    expect(visits).toHaveLength(1);
    expect(tab.consoleErrors).toEqual([]);
  });
});
